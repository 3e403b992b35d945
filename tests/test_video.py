"""ReplayRecorder writes replay videos every browser plays, streaming frames to ffmpeg with constant memory."""

from __future__ import annotations

import os
import struct
import sys
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huggingface_sb3.errors import HuggingFaceSB3Error, MissingFileError, VideoEncodingError
from huggingface_sb3.video import ReplayRecorder, VideoInfo, probe_video


def moving_square(count: int, height: int = 400, width: int = 600) -> Iterator[np.ndarray]:
    """Distinct frames of a white square crossing a dark background."""
    for index in range(count):
        frame = np.full((height, width, 3), 30, dtype=np.uint8)
        left = index * 7 % max(width - 10, 1)
        frame[height // 4 : height // 2, left : left + 10] = 255
        yield frame


def decode(path: Path) -> list[np.ndarray]:
    """Every frame of the video as RGB arrays, as a player would show them."""
    reader = imageio_ffmpeg.read_frames(str(path))
    width, height = next(reader)["size"]
    return [np.frombuffer(data, np.uint8).reshape(height, width, 3) for data in reader]


def top_level_boxes(path: Path) -> list[str]:
    """Types of the MP4's top-level boxes, in file order."""
    data, offset, boxes = path.read_bytes(), 0, []
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode())
        offset += size
    return boxes


def record(path: Path, frames: Iterator[np.ndarray], **options: object) -> VideoInfo:
    with ReplayRecorder(path, **{"fps": 30, "preset": "ultrafast", **options}) as recorder:  # type: ignore[arg-type]
        for frame in frames:
            recorder.add_frame(frame)
    return probe_video(path)


def test_cartpole_sized_video_is_browser_playable_h264(tmp_path: Path) -> None:
    path = tmp_path / "replay.mp4"
    with ReplayRecorder(path, fps=30) as recorder:
        for frame in moving_square(45):
            assert recorder.add_frame(frame) is True
        assert not path.exists(), "the video must appear only when complete"
    info = probe_video(path)
    assert info == VideoInfo(path=path, codec="h264", pix_fmt="yuv420p", width=600, height=400, fps=30.0, frames=45)
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat"), f"no +faststart: {boxes}"
    assert os.listdir(tmp_path) == ["replay.mp4"]


def test_close_returns_what_probe_video_reads(tmp_path: Path) -> None:
    recorder = ReplayRecorder(tmp_path / "replay.mp4", fps=12.5, preset="ultrafast", crf=30)
    for frame in moving_square(17, 64, 48):
        recorder.add_frame(frame)
    info = recorder.close()
    assert info == probe_video(tmp_path / "replay.mp4")
    assert (info.codec, info.pix_fmt, info.width, info.height, info.fps, info.frames) == (
        "h264",
        "yuv420p",
        48,
        64,
        12.5,
        17,
    )
    assert recorder.frames_written == 17


@pytest.mark.parametrize(("fps", "count"), [(30, 1), (29.97, 31), (60, 121)])
def test_fps_and_exact_frame_count(tmp_path: Path, fps: float, count: int) -> None:
    info = record(tmp_path / "replay.mp4", moving_square(count, 48, 64), fps=fps)
    assert info.frames == count
    assert info.fps == pytest.approx(fps)


def test_odd_size_is_padded_to_even_without_rescaling(tmp_path: Path) -> None:
    frame = np.zeros((75, 101, 3), dtype=np.uint8)
    frame[20:50, 30:70] = 255
    info = record(tmp_path / "replay.mp4", iter([frame] * 3), crf=0)
    assert (info.width, info.height) == (102, 76)
    shown = decode(tmp_path / "replay.mp4")[0].astype(int)
    assert np.abs(shown[:75, :101] - frame).mean() < 3, "the picture was moved or rescaled"
    assert shown[75:, :].max() < 40 and shown[:, 101:].max() < 40, "padding should be black"


@settings(max_examples=12, deadline=None)
@given(height=st.integers(1, 40), width=st.integers(1, 40))
def test_any_size_becomes_the_next_even_size(height: int, width: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        info = record(Path(folder) / "replay.mp4", moving_square(2, height, width))
    assert (info.width, info.height) == (width + width % 2, height + height % 2)
    assert info.frames == 2


def test_max_frames_stops_at_the_limit(tmp_path: Path) -> None:
    with ReplayRecorder(tmp_path / "replay.mp4", fps=30, max_frames=10, preset="ultrafast") as recorder:
        accepted = [recorder.add_frame(frame) for frame in moving_square(15, 48, 64)]
        assert recorder.full
    assert accepted == [True] * 10 + [False] * 5
    assert recorder.frames_written == 10
    assert probe_video(tmp_path / "replay.mp4").frames == 10


def test_abort_leaves_no_file_and_keeps_the_previous_video(tmp_path: Path) -> None:
    path = tmp_path / "replay.mp4"
    path.write_bytes(b"previous video")
    recorder = ReplayRecorder(path, fps=30, preset="ultrafast")
    for frame in moving_square(20, 48, 64):
        recorder.add_frame(frame)
    assert path.read_bytes() == b"previous video"
    recorder.abort()
    recorder.abort()
    assert os.listdir(tmp_path) == ["replay.mp4"]
    assert path.read_bytes() == b"previous video"
    with pytest.raises(VideoEncodingError, match="closed"):
        recorder.add_frame(next(moving_square(1, 48, 64)))


def test_error_inside_the_with_block_propagates_and_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="env crashed"), ReplayRecorder(tmp_path / "replay.mp4", fps=30) as recorder:
        for frame in moving_square(5, 48, 64):
            recorder.add_frame(frame)
        raise KeyError("env crashed")
    assert os.listdir(tmp_path) == []


def test_ffmpeg_failure_raises_with_its_output_and_keeps_the_previous_video(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "ffmpeg"
    broken.write_text(
        f"#!{sys.executable}\nimport sys\nsys.stdin.buffer.read(1000)\n"
        "sys.stderr.write('x264 [error]: simulated encoder failure\\n')\nsys.exit(1)\n"
    )
    broken.chmod(0o755)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(broken))
    path = tmp_path / "replay.mp4"
    path.write_bytes(b"previous video")
    with (
        pytest.raises(VideoEncodingError, match="simulated encoder failure") as error,
        ReplayRecorder(path, fps=30) as recorder,
    ):
        for frame in moving_square(30, 48, 64):
            recorder.add_frame(frame)
    assert isinstance(error.value, HuggingFaceSB3Error) and isinstance(error.value, RuntimeError)
    assert sorted(os.listdir(tmp_path)) == ["ffmpeg", "replay.mp4"]
    assert path.read_bytes() == b"previous video"


@pytest.mark.parametrize(
    ("bad_frame", "named"),
    [
        (np.zeros((48, 64, 3), dtype=np.float32), "float32"),
        (np.zeros((48, 64, 2), dtype=np.uint8), r"\(48, 64, 2\)"),
        (np.zeros((48 * 64 * 3,), dtype=np.uint8), r"\(9216,\)"),
        (np.zeros((48, 64, 3, 1), dtype=np.uint8), r"\(48, 64, 3, 1\)"),
        (np.zeros((0, 64, 3), dtype=np.uint8), r"\(0, 64, 3\)"),
        (np.zeros((48, 66, 3), dtype=np.uint8), "66x48 but the first frame was 64x48"),
    ],
)
def test_bad_frames_are_refused_by_name_and_recording_goes_on(
    tmp_path: Path, bad_frame: np.ndarray, named: str
) -> None:
    with ReplayRecorder(tmp_path / "replay.mp4", fps=30, preset="ultrafast") as recorder:
        recorder.add_frame(next(moving_square(1, 48, 64)))
        with pytest.raises(VideoEncodingError, match=named):
            recorder.add_frame(bad_frame)
        recorder.add_frame(next(moving_square(1, 48, 64)))
    assert probe_video(tmp_path / "replay.mp4").frames == 2


def test_rgba_gray_and_non_contiguous_frames_show_the_right_colours(tmp_path: Path) -> None:
    rgb = np.zeros((64, 64, 3), dtype=np.uint8)
    rgb[:, :32] = (255, 0, 0)
    rgb[:, 32:] = (0, 0, 255)
    rgba = np.concatenate([rgb, np.zeros((64, 64, 1), dtype=np.uint8)], axis=2)
    gray = np.full((64, 64), 200, dtype=np.uint8)
    mirrored = rgb[:, ::-1]
    assert not mirrored.flags.c_contiguous
    record(tmp_path / "replay.mp4", iter([rgb, rgba, gray, mirrored, np.asfortranarray(rgb)]), crf=0)
    shown = [frame[16:48, 8:24].mean(axis=(0, 1)) for frame in decode(tmp_path / "replay.mp4")]
    red, blue, white200 = (255, 0, 0), (0, 0, 255), (200, 200, 200)
    for seen, expected in zip(shown, [red, red, white200, blue, red], strict=True):
        assert seen == pytest.approx(expected, abs=12)


def test_caller_may_reuse_its_frame_buffer(tmp_path: Path) -> None:
    buffer = np.zeros((48, 64, 3), dtype=np.uint8)
    with ReplayRecorder(tmp_path / "replay.mp4", fps=30, preset="ultrafast", crf=0) as recorder:
        for level in range(0, 250, 25):
            buffer[:] = level
            recorder.add_frame(buffer)
    assert [round(frame.mean()) for frame in decode(tmp_path / "replay.mp4")] == pytest.approx(
        list(range(0, 250, 25)), abs=3
    )


def test_close_without_frames_or_twice_raises(tmp_path: Path) -> None:
    with pytest.raises(VideoEncodingError, match="No frame was added"):
        ReplayRecorder(tmp_path / "replay.mp4", fps=30).close()
    recorder = ReplayRecorder(tmp_path / "replay.mp4", fps=30)
    recorder.add_frame(next(moving_square(1, 48, 64)))
    recorder.close()
    with pytest.raises(VideoEncodingError, match="already closed"):
        recorder.close()
    recorder.abort()
    assert probe_video(tmp_path / "replay.mp4").frames == 1, "abort after close must keep the finished video"


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"fps": 0}, "fps"),
        ({"fps": 30, "max_frames": -1}, "max_frames"),
        ({"fps": 30, "preset": "fastest"}, "preset 'fastest'"),
        ({"fps": 30, "crf": 52}, "crf"),
    ],
)
def test_bad_settings_are_refused_before_encoding(tmp_path: Path, options: dict[str, object], named: str) -> None:
    with pytest.raises(VideoEncodingError, match=named):
        ReplayRecorder(tmp_path / "replay.mp4", **options)  # type: ignore[arg-type]


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VideoEncodingError, match="does not exist"):
        ReplayRecorder(tmp_path / "nowhere" / "replay.mp4", fps=30)


def test_probe_video_refuses_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError):
        probe_video(tmp_path / "absent.mp4")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(os.urandom(4096))
    with pytest.raises(VideoEncodingError, match="not a readable video"):
        probe_video(corrupt)


def peak_memory_recording(path: Path, count: int) -> int:
    """Peak bytes allocated in Python (numpy included) while recording ``count`` CartPole-sized frames."""
    frame = np.zeros((400, 600, 3), dtype=np.uint8)
    tracemalloc.start()
    try:
        with ReplayRecorder(path, fps=30, preset="ultrafast") as recorder:
            for index in range(count):
                frame[:, index % 600] = index % 256
                recorder.add_frame(frame)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_frames(tmp_path: Path) -> None:
    frame_bytes = 400 * 600 * 3
    short = peak_memory_recording(tmp_path / "short.mp4", 250)
    long = peak_memory_recording(tmp_path / "long.mp4", 2000)
    assert probe_video(tmp_path / "long.mp4").frames == 2000
    assert long < short + frame_bytes, (short, long)
    assert long < 8 * frame_bytes, "more than a few frames are held in memory"


def test_real_cartpole_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    gymnasium = pytest.importorskip("gymnasium")
    env = gymnasium.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    try:
        with ReplayRecorder(tmp_path / "replay.mp4", fps=env.metadata["render_fps"], max_frames=100) as recorder:
            while recorder.add_frame(env.render()):
                _, _, terminated, truncated, _ = env.step(env.action_space.sample())
                if terminated or truncated:
                    env.reset()
    finally:
        env.close()
    info = probe_video(tmp_path / "replay.mp4")
    assert (info.codec, info.pix_fmt, info.width, info.height, info.frames) == ("h264", "yuv420p", 600, 400, 100)
    assert info.fps == env.metadata["render_fps"]
