"""One factory for the media that tests and benchmarks generate (tests and bench/ import it).

Generators write real media with ffmpeg, Pillow and espeak-ng; nothing is mocked.
`cached(folder, "name.mp4", generator, *params)` returns the file for that spec, keyed
by a digest of the generator, its parameters and the factory's source, written atomically.

  base     fonts, tests/data clips, the ffmpeg runner, drawtext
  cache    digest-keyed, atomic cache of generated files
  clips    short lesson-like clips (lavfi + drawtext + Mandarin speech) for tech/signal/CLI/farm tests
  lesson   the realistic slide lesson (title card, topics, inset, speech; planted ad and promo)
  slides   slide videos for the on-screen tests (Pillow slides, QR codes, marks, insets)
  cuts     a video that cuts every second, of any length (memory bounds on long videos)
  lab      drawn bench scenes and camera work (pan, shake, zoom, blur, exposure) for the lab tests
  speech   16 kHz speech tracks laid end to end (Mandarin clips, espeak English, silence)
  package  submission packages: .docx/.pptx/.pdf parts, scans, QR pictures, GBK-named zips
"""
from testmedia.cache import cached

__all__ = ["cached"]
