"""The steps of each study, one function per pipeline rule (`mfh.studies.gauss`)."""
