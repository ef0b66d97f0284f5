"""The CITES status of a specimen: which appendix applies, for a country, on a date."""
