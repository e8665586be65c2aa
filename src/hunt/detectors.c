/*
 * detectors.c — the detector table: what a hunt's workers run on every
 * event, in this order (pipeline.h). One row per detector.
 */
#include "pipeline.h"

const tr_detector_ops *const tr_detectors[] = {
    &tr_detector_evidence,   /* what each file holds, per host and channel */
    &tr_detector_sigma,      /* Sigma rules and correlations */
    &tr_detector_indicators, /* the indicator sweep */
    NULL,
};
