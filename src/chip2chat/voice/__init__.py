"""The voice pipeline: end of speech -> first audio, each stage on the device or in the cloud."""
