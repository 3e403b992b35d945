"""Push a folder to the embedded local Hub and pull it back, with the real huggingface_hub client.

    python examples/local_hub_roundtrip.py
    python examples/local_hub_roundtrip.py --folder path/to/agent-folder --repo-id local-user/my-agent

No account and no network are needed: a local Hub starts in this process (in a temporary data directory
unless --data-dir is given) and the client talks to it over HTTP, exactly as it talks to huggingface.co.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def make_demo_folder(root: Path) -> Path:
    """A small folder shaped like an agent repo (stand-in files: the packaging job arrives with issue #3)."""
    folder = root / "demo-agent"
    (folder / "logs").mkdir(parents=True)
    (folder / "ppo-CartPole-v1.zip").write_bytes(os.urandom(64 * 1024))
    (folder / "results.json").write_text('{"mean_reward": 500.0, "std_reward": 0.0}\n')
    (folder / "logs" / "events.out.tfevents.1").write_bytes(os.urandom(4096))
    (folder / "README.md").write_text(
        "---\nlibrary_name: stable-baselines3\ntags:\n- CartPole-v1\n- reinforcement-learning\n---\n# Demo agent\n"
    )
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, help="folder to push (default: a small demo agent folder)")
    parser.add_argument("--repo-id", default="local-user/demo-agent", help="repo to push to (default: %(default)s)")
    parser.add_argument("--data-dir", type=Path, help="keep the local Hub's data here (default: temporary)")
    args = parser.parse_args(argv)

    from huggingface_hub import HfApi, snapshot_download

    from huggingface_sb3 import LocalHub

    with tempfile.TemporaryDirectory() as scratch, LocalHub(args.data_dir, user=args.repo_id.split("/")[0]) as hub:
        print(f"Started the embedded local Hub at {hub.endpoint} (user {hub.user}).")
        folder = args.folder or make_demo_folder(Path(scratch))
        api = HfApi(endpoint=hub.endpoint, token=hub.token)
        url = api.create_repo(args.repo_id, exist_ok=True)
        commit = api.upload_folder(repo_id=args.repo_id, folder_path=folder, commit_message="Push with huggingface_sb3")
        print(f"Pushed {folder} to {url}")
        print(f"  commit: {commit.oid}")
        for entry in api.list_repo_tree(args.repo_id, recursive=True):
            if hasattr(entry, "size"):
                print(f"  {entry.path:<40} {entry.size:>10} bytes{'  (LFS)' if entry.lfs else ''}")
        pulled = Path(
            snapshot_download(args.repo_id, endpoint=hub.endpoint, token=hub.token, cache_dir=Path(scratch) / "cache")
        )
        comparison = filecmp.dircmp(folder, pulled)
        identical = not _differences(comparison)
        print(f"Pulled it back into {pulled}: {'identical to what was pushed' if identical else 'DIFFERENT'}")
        return 0 if identical else 1


def _differences(comparison: filecmp.dircmp) -> list[str]:
    found = [*comparison.left_only, *comparison.diff_files, *comparison.funny_files]
    for sub in comparison.subdirs.values():
        found += _differences(sub)
    return found


if __name__ == "__main__":
    sys.exit(main())
