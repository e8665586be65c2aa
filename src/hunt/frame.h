/*
 * frame.h — the kinds of frame a hunt's worker appends to a job's buffer and
 * its writer reads back in order: a finding (finding.c) or a count of events
 * per host and channel (hunt.c). Each frame starts 8-aligned with its total
 * size (u32, a multiple of 8) and its kind (u32).
 */
#ifndef TR_HUNT_FRAME_H
#define TR_HUNT_FRAME_H

enum { TR_FRAME_FINDING = 1, TR_FRAME_SOURCE = 2 };

#endif
