"""Writers: the study workbook template, workbook/CSV exports and the data dictionary."""
