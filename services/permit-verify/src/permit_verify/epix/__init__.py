"""CITESEPermit XML (EPIX) in and out, and the compact signed tokens of QR codes."""
