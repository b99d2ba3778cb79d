"""Carry the input's sound into the output: packets copied as they are (remux) when the
output container takes the codec, else decoded and re-encoded (AAC into MP4/MOV, Opus into
WebM). Audio packets are interleaved with the video by time, read from a second handle on the
input, so memory stays constant whatever the clip's length.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from alphacut.errors import InvalidImage

OPUS_RATES = (48000, 24000, 16000, 12000, 8000)


class AudioTrack:
    """The first audio stream of ``source`` written into ``output`` (an open PyAV output
    container, before its first packet). ``plan``: ``copy`` or an encoder name."""

    def __init__(self, source: str, output: Any, plan: str) -> None:
        import av

        self.input = av.open(source, metadata_errors="ignore")
        self.in_stream = self.input.streams.audio[0]
        self.copy = plan == "copy"
        self.output = output
        if self.copy:
            self.out_stream = output.add_stream_from_template(self.in_stream)
        else:
            ctx = self.in_stream.codec_context
            rate = ctx.sample_rate or 48000
            if plan == "libopus" and rate not in OPUS_RATES:
                rate = 48000
            self.out_stream = output.add_stream(plan, rate=rate)
            layout = ctx.layout.name if ctx.layout else "stereo"
            if plan == "libopus" and ctx.layout and ctx.layout.nb_channels > 2:
                layout = "stereo"
            self.out_stream.layout = layout
            fmt = self.out_stream.codec_context.codec.audio_formats[0].name
            self.out_stream.format = fmt
            self.resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate)
        self._packets = self._source_packets()
        self._pending: Any = None
        self.done = False

    def _source_packets(self) -> Iterator[Any]:
        for packet in self.input.demux(self.in_stream):
            if packet.dts is None and packet.size == 0:
                continue
            yield packet

    def _peek(self) -> Any:
        if self._pending is None and not self.done:
            self._pending = next(self._packets, None)
            if self._pending is None:
                self.done = True
        return self._pending

    def feed_until(self, seconds: float) -> None:
        """Write the audio packets that start before ``seconds``."""
        import av

        try:
            while (packet := self._peek()) is not None:
                start = packet.pts if packet.pts is not None else packet.dts
                if start is not None and float(start * packet.time_base) > seconds:
                    return
                self._pending = None
                self._write(packet)
        except av.error.FFmpegError as exc:
            raise InvalidImage(f"the audio track is broken (truncated?): {exc}") from exc

    def _write(self, packet: Any) -> None:
        if self.copy:
            if packet.dts is None:
                return
            packet.stream = self.out_stream
            self.output.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None
            for resampled in self.resampler.resample(frame):
                self.output.mux(self.out_stream.encode(resampled))

    def finish(self) -> None:
        """Write what is left, flush the encoder, close the second input handle."""
        self.feed_until(float("inf"))
        if not self.copy:
            for resampled in self.resampler.resample(None):
                self.output.mux(self.out_stream.encode(resampled))
            self.output.mux(self.out_stream.encode(None))
        self.close()

    def close(self) -> None:
        self.input.close()
