"""Study protocols as versioned data: the file format, the visit schedule, the stored versions."""
