"""Cross-lesson originality: fingerprints of picture and sound, and matching them against other lessons.

  config    the installation's settings (config/originality.yaml), validated with pydantic
  phash     the 64-bit perceptual hash of one frame (borders cut, mirrored variant)
  sound     Chromaprint values through fpcalc (the tool gateway)
  prints    a lesson's fingerprint: arrays, their file, the index keys
  match     aligned runs between two fingerprints (picture and sound)
  findings  originality.reused / originality.duplicate from the runs
  stage     the two stages riding the shared decode and the audio decode
  cross     the report step's hook (the index side lives in workers/originality.py)
"""
