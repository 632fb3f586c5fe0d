//! Plot detection (being written).
