/*
 * fuzz_evtx.c — libFuzzer target for the EVTX reader: arbitrary bytes read
 * from memory as one evidence file (format detection picks the EVTX reader
 * when they start like a log or a bare chunk, as the seeds in fuzz/seeds
 * do); what is checked of each event is in fuzz_common.h.
 *
 * The scan options come from the input's last byte, inverted, so that the
 * seeds (which end in zeros) run with XML rendering and record recovery on
 * and mutations try every combination: bit 0 clear asks for TR_SCAN_XML,
 * bit 1 clear for TR_SCAN_RECOVER. An XML rendering must be one line.
 *
 * Seeds: the .evtx files in fuzz/seeds — three single-chunk Sysmon and Defender logs
 * from SigmaHQ's regression data (Detection Rule License 1.1, © the SigmaHQ
 * contributors) and crafted.evtx, written by tests/test_evtx.c
 * (EVTX_WRITE_SEED=fuzz/seeds/crafted.evtx build/traccia-tests): UserData,
 * nested templates, plain elements, every common value type.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"EventID", "Channel", "Provider_Name", "Event.System.TimeCreated.SystemTime",
                                        "Event.EventData.Data", "Image", "CommandLine", "SubjectUserName", NULL};
    unsigned last = size ? data[size - 1] : 0;
    unsigned flags = (~last & 1u ? TR_SCAN_XML : 0u) | (~last & 2u ? TR_SCAN_RECOVER : 0u);
    fuzz_scan("fuzz.evtx", "", data, size, flags, names);
    return 0;
}
