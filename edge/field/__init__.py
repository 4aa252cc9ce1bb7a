"""The day in the field: visits to a hamlet, the citizens' queue, the satisfaction survey and the
reports a commune office files each month (issue 18). Everything lives in `field.db` beside the
job queue, so it works with no internet and survives a power cut."""
