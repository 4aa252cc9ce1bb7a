/* edgebutton: a SANE backend with a scanner button that a test can press.
 *
 * Why it exists: the SANE `test` backend has a button-like option (bool-hard-select-soft-detect)
 * but it is always false, so nothing can press it, and no real scanner sits on a test machine.
 * tests/sane_button.py builds this file as libsane-edgebutton.so.1 in a directory put on
 * LD_LIBRARY_PATH (libsane's dll backend searches those directories before its own), lists it
 * in the dll.conf of SANE_CONFIG_DIR, and the service under test reaches it through the real
 * libsane and python-sane, exactly as it reaches a fujitsu or canon_dr scanner.
 *
 * One device, `edgebutton:0`, a simplex sheet feeder:
 *   scan         the button: bool, hard-select + soft-detect (like fujitsu/canon_dr buttons);
 *                pressed while the file $EDGE_TEST_BUTTON_FILE holds "1"
 *   page-loaded  a paper sensor, as fujitsu has: bool, hard-select + soft-detect, true while the
 *                feeder holds sheets; not a button, a frontend must not start scans on it
 *   source       "ADF" only;  resolution  50..300 dpi
 * Each sane_open finds the feeder loaded with $EDGE_TEST_BUTTON_SHEETS sheets (default 2); once
 * they are scanned sane_start says SANE_STATUS_NO_DOCS. A sheet is an 8-bit gray A5 page (148 x
 * 210 mm): light paper with dark bars like lines of words, so it is not taken for blank.
 * While the file $EDGE_TEST_BUTTON_GATE exists, sane_start waits (a slow feeder: a test can act
 * while a scan is under way). Opens are not exclusive, as with a network scanner, so a frontend
 * that polls the buttons during a scan would see a press. Every read of the button and every
 * wait at the gate appends a line ("scan=0", "scan=1", "gate") to $EDGE_TEST_BUTTON_LOG, so a
 * test can count the polls instead of sleeping.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sane/sane.h>
#include <sane/saneopts.h>

#define PAGE_W_MM 148
#define PAGE_H_MM 210
#define PAPER 235
#define INK 30
#define GATE_MAX_WAITS 6000 /* x 20 ms: two minutes, then the feeder reports a jam */

enum { OPT_COUNT, OPT_SCAN, OPT_PAGE_LOADED, OPT_SOURCE, OPT_RESOLUTION, NUM_OPTS };

typedef struct {
  SANE_Int dpi;
  int sheets; /* left in the feeder */
  int scanning;
  long pos; /* bytes of the current sheet read so far */
} Scanner;

static const SANE_String_Const sources[] = { "ADF", NULL };
static const SANE_Range dpi_range = { 50, 300, 1 };

static const SANE_Option_Descriptor options[NUM_OPTS] = {
  { SANE_NAME_NUM_OPTIONS, SANE_TITLE_NUM_OPTIONS, SANE_DESC_NUM_OPTIONS, SANE_TYPE_INT,
    SANE_UNIT_NONE, sizeof (SANE_Word), SANE_CAP_SOFT_DETECT, SANE_CONSTRAINT_NONE, { NULL } },
  { SANE_NAME_SCAN, SANE_TITLE_SCAN, SANE_DESC_SCAN, SANE_TYPE_BOOL, SANE_UNIT_NONE,
    sizeof (SANE_Word), SANE_CAP_HARD_SELECT | SANE_CAP_SOFT_DETECT, SANE_CONSTRAINT_NONE,
    { NULL } },
  { SANE_NAME_PAGE_LOADED, SANE_TITLE_PAGE_LOADED, SANE_DESC_PAGE_LOADED, SANE_TYPE_BOOL,
    SANE_UNIT_NONE, sizeof (SANE_Word), SANE_CAP_HARD_SELECT | SANE_CAP_SOFT_DETECT,
    SANE_CONSTRAINT_NONE, { NULL } },
  { SANE_NAME_SCAN_SOURCE, SANE_TITLE_SCAN_SOURCE, SANE_DESC_SCAN_SOURCE, SANE_TYPE_STRING,
    SANE_UNIT_NONE, 8, SANE_CAP_SOFT_SELECT | SANE_CAP_SOFT_DETECT,
    SANE_CONSTRAINT_STRING_LIST, { .string_list = sources } },
  { SANE_NAME_SCAN_RESOLUTION, SANE_TITLE_SCAN_RESOLUTION, SANE_DESC_SCAN_RESOLUTION,
    SANE_TYPE_INT, SANE_UNIT_DPI, sizeof (SANE_Word), SANE_CAP_SOFT_SELECT | SANE_CAP_SOFT_DETECT,
    SANE_CONSTRAINT_RANGE, { .range = &dpi_range } },
};

static const SANE_Device device = { "0", "Edge", "button test scanner", "sheetfed scanner" };
static const SANE_Device *devices[] = { &device, NULL };

static void
note (const char *event)
{
  const char *path = getenv ("EDGE_TEST_BUTTON_LOG");
  FILE *f = path ? fopen (path, "a") : NULL;
  if (f)
    {
      fprintf (f, "%s\n", event);
      fclose (f);
    }
}

static SANE_Bool
button_pressed (void)
{
  const char *path = getenv ("EDGE_TEST_BUTTON_FILE");
  FILE *f = path ? fopen (path, "r") : NULL;
  int c = f ? fgetc (f) : EOF;
  if (f)
    fclose (f);
  note (c == '1' ? "scan=1" : "scan=0");
  return c == '1';
}

static SANE_Status
wait_at_gate (void)
{
  const char *gate = getenv ("EDGE_TEST_BUTTON_GATE");
  int waits = 0;
  if (!gate || access (gate, F_OK) != 0)
    return SANE_STATUS_GOOD;
  note ("gate");
  while (access (gate, F_OK) == 0)
    {
      if (++waits > GATE_MAX_WAITS)
        return SANE_STATUS_JAMMED;
      usleep (20000);
    }
  return SANE_STATUS_GOOD;
}

static int
mm_to_px (int mm, SANE_Int dpi)
{
  return mm * dpi * 10 / 254;
}

/* Lines of "words" 2.5 mm high every 8 mm, from 20 to 190 mm down, 15 mm side margins. */
static SANE_Byte
pixel (const Scanner *s, int x, int y)
{
  int x_mm = x * 254 / s->dpi / 10, y_tenths = y * 254 / s->dpi;
  int line = (y_tenths - 200) / 80;
  if (y_tenths < 200 || y_tenths >= 1900 || (y_tenths - 200) % 80 >= 25 || x_mm < 15
      || x_mm >= PAGE_W_MM - 15)
    return PAPER;
  return (x_mm + 7 * line) % 23 < 17 ? INK : PAPER; /* 17 mm words, 6 mm spaces */
}

SANE_Status
sane_edgebutton_init (SANE_Int *version_code, SANE_Auth_Callback authorize)
{
  (void) authorize;
  if (version_code)
    *version_code = SANE_VERSION_CODE (SANE_CURRENT_MAJOR, 0, 1);
  return SANE_STATUS_GOOD;
}

void
sane_edgebutton_exit (void)
{
}

SANE_Status
sane_edgebutton_get_devices (const SANE_Device ***device_list, SANE_Bool local_only)
{
  (void) local_only;
  *device_list = devices;
  return SANE_STATUS_GOOD;
}

SANE_Status
sane_edgebutton_open (SANE_String_Const name, SANE_Handle *handle)
{
  const char *sheets = getenv ("EDGE_TEST_BUTTON_SHEETS");
  Scanner *s;
  if (name[0] && strcmp (name, device.name) != 0)
    return SANE_STATUS_INVAL;
  s = calloc (1, sizeof (*s));
  if (!s)
    return SANE_STATUS_NO_MEM;
  s->dpi = 150;
  s->sheets = sheets ? atoi (sheets) : 2;
  *handle = s;
  return SANE_STATUS_GOOD;
}

void
sane_edgebutton_close (SANE_Handle handle)
{
  free (handle);
}

const SANE_Option_Descriptor *
sane_edgebutton_get_option_descriptor (SANE_Handle handle, SANE_Int option)
{
  (void) handle;
  return option >= 0 && option < NUM_OPTS ? &options[option] : NULL;
}

SANE_Status
sane_edgebutton_control_option (SANE_Handle handle, SANE_Int option, SANE_Action action,
                                void *value, SANE_Int *info)
{
  Scanner *s = handle;
  SANE_Word *word = value;
  if (info)
    *info = 0;
  if (option < 0 || option >= NUM_OPTS || s->scanning)
    return SANE_STATUS_INVAL;
  if (action == SANE_ACTION_GET_VALUE)
    {
      switch (option)
        {
        case OPT_COUNT: *word = NUM_OPTS; break;
        case OPT_SCAN: *word = button_pressed (); break;
        case OPT_PAGE_LOADED: *word = s->sheets > 0; break;
        case OPT_SOURCE: strcpy (value, sources[0]); break;
        case OPT_RESOLUTION: *word = s->dpi; break;
        }
      return SANE_STATUS_GOOD;
    }
  if (action != SANE_ACTION_SET_VALUE)
    return SANE_STATUS_INVAL;
  if (option == OPT_SOURCE && strcmp (value, sources[0]) == 0)
    return SANE_STATUS_GOOD;
  if (option == OPT_RESOLUTION && *word >= dpi_range.min && *word <= dpi_range.max)
    {
      s->dpi = *word;
      if (info)
        *info = SANE_INFO_RELOAD_PARAMS;
      return SANE_STATUS_GOOD;
    }
  return SANE_STATUS_INVAL;
}

SANE_Status
sane_edgebutton_get_parameters (SANE_Handle handle, SANE_Parameters *params)
{
  Scanner *s = handle;
  params->format = SANE_FRAME_GRAY;
  params->last_frame = SANE_TRUE;
  params->depth = 8;
  params->pixels_per_line = params->bytes_per_line = mm_to_px (PAGE_W_MM, s->dpi);
  params->lines = mm_to_px (PAGE_H_MM, s->dpi);
  return SANE_STATUS_GOOD;
}

SANE_Status
sane_edgebutton_start (SANE_Handle handle)
{
  Scanner *s = handle;
  SANE_Status status = wait_at_gate ();
  if (status != SANE_STATUS_GOOD)
    return status;
  if (s->sheets == 0)
    return SANE_STATUS_NO_DOCS;
  s->sheets--;
  s->scanning = 1;
  s->pos = 0;
  return SANE_STATUS_GOOD;
}

SANE_Status
sane_edgebutton_read (SANE_Handle handle, SANE_Byte *data, SANE_Int max_length,
                      SANE_Int *length)
{
  Scanner *s = handle;
  int width = mm_to_px (PAGE_W_MM, s->dpi);
  long size = (long) width * mm_to_px (PAGE_H_MM, s->dpi);
  *length = 0;
  if (!s->scanning)
    return SANE_STATUS_CANCELLED;
  if (s->pos >= size)
    {
      s->scanning = 0;
      return SANE_STATUS_EOF;
    }
  while (*length < max_length && s->pos < size)
    {
      data[(*length)++] = pixel (s, s->pos % width, s->pos / width);
      s->pos++;
    }
  return SANE_STATUS_GOOD;
}

void
sane_edgebutton_cancel (SANE_Handle handle)
{
  ((Scanner *) handle)->scanning = 0;
}

SANE_Status
sane_edgebutton_set_io_mode (SANE_Handle handle, SANE_Bool non_blocking)
{
  (void) handle;
  return non_blocking ? SANE_STATUS_UNSUPPORTED : SANE_STATUS_GOOD;
}

SANE_Status
sane_edgebutton_get_select_fd (SANE_Handle handle, SANE_Int *fd)
{
  (void) handle;
  (void) fd;
  return SANE_STATUS_UNSUPPORTED;
}
