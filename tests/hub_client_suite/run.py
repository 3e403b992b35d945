"""Run huggingface_hub's own tests against the local Hub, and fail on any difference not on the known list.

    python tests/hub_client_suite/run.py                 # the selection below; prints the pass figure
    python tests/hub_client_suite/run.py -k tag          # a subset (pytest's -k)

What it does:
1. fetches the sdist of the huggingface_hub version installed here from the package index (``pip download``,
   cached in ``~/.cache/huggingface_sb3/hub-client-suite``) and unpacks its ``tests/`` folder into a temporary
   folder (regular files under ``tests/`` only);
2. changes one line of the maintainers' ``tests/testing_constants.py``: ``ENDPOINT_STAGING``, their CI Hub, becomes
   a :class:`~huggingface_sb3.LocalHub` started here, which accepts the maintainers' dummy users and tokens; adds the
   ``conftest.py`` the sdist lacks (``upstream_conftest.py``: the ``api`` and ``repo_factory`` fixtures, the
   markers, production tests skipped);
3. runs the test classes and modules of :data:`SELECTION` (what the local Hub claims to speak: repos, commits,
   uploads, downloads, refs, branches, tags, trees, commit history, snapshot download, file metadata, the
   ``HfFileSystem``, the commit scheduler) with a timeout per test, no assertion changed;
4. prints ``passed / relevant`` (relevant: not skipped, not excluded) and exits 1 when a test fails that is not in
   :data:`KNOWN_EXCLUSIONS`, or when an excluded test passes (so the list stays short and true).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("HF_SB3_SUITE_CACHE", Path.home() / ".cache" / "huggingface_sb3" / "hub-client-suite"))
STAGING_LINE = 'ENDPOINT_STAGING = "https://hub-ci.huggingface.co"'
PER_TEST_TIMEOUT = 120  # seconds
RUN_TIMEOUT = 1800  # seconds, the whole run

SELECTION = (
    "tests/test_hf_api.py::TestHfApiRepoFileExists",
    "tests/test_hf_api.py::TestHfApiEndpoints",
    "tests/test_hf_api.py::TestCommitApi",
    "tests/test_hf_api.py::TestHfApiUploadEmptyFile",
    "tests/test_hf_api.py::TestHfApiDeleteFolder",
    "tests/test_hf_api.py::TestHfApiListRepoTree",
    "tests/test_hf_api.py::TestHfApiTagEndpoint",
    "tests/test_hf_api.py::TestHfApiBranchEndpoint",
    "tests/test_hf_api.py::TestHfApiDeleteFiles",
    "tests/test_hf_api.py::TestListGitRefs",
    "tests/test_hf_api.py::TestListGitCommits",
    "tests/test_hf_api.py::TestDownloadHfApiAlias",
    "tests/test_hf_api.py::TestHfApiPrivate",
    "tests/test_hf_api.py::TestHfApiPublicStaging",
    "tests/test_hf_api.py::TestRepoUrl",
    "tests/test_hf_api.py::TestHfApiTokenAttribute",
    "tests/test_hf_api.py::TestHfApiVerifyChecksums",
    "tests/test_hf_api.py::TestCommitInBackground",
    "tests/test_commit_api.py",
    "tests/test_upload_pipeline.py",
    "tests/test_commit_scheduler.py",
    "tests/test_file_download.py",
    "tests/test_snapshot_download.py",
    "tests/test_hf_file_system.py",
)
"""The parts of huggingface_hub's suite that exercise what the local Hub claims to speak."""

_MOVE = "moving or renaming repos (/api/repos/move) is not claimed"
_GATED = "gated repos (access requests) are not claimed"
_XET = "Xet downloads are not claimed: the local Hub never advertises a Xet hash"
_PREUPLOAD_LFS = (
    "preupload answers 'regular' so that clients >= 1.20 never upload through Xet, which the local Hub does not "
    "speak; the file is still stored as LFS when .gitattributes tracks it (--upload-mode lfs with "
    "HF_HUB_DISABLE_XET=1 gives the 'lfs' answer)"
)
KNOWN_EXCLUSIONS: dict[str, str] = {
    "tests/test_hf_api.py::TestHfApiEndpoints::test_move_repo_normal_usage": _MOVE,
    "tests/test_hf_api.py::TestHfApiEndpoints::test_move_repo_target_already_exists": _MOVE,
    "tests/test_file_download.py::TestStagingDownload::test_download_regular_file_from_private_renamed_repo": _MOVE,
    "tests/test_hf_api.py::TestHfApiEndpoints::test_update_repo_settings": _GATED,
    "tests/test_hf_api.py::TestHfApiEndpoints::test_update_dataset_repo_settings": _GATED,
    "tests/test_file_download.py::TestStagingDownload::test_download_from_a_gated_repo_with_hf_hub_download": _GATED,
    "tests/test_hf_api.py::TestHfApiEndpoints::test_whoami_with_passing_token": (
        "user profiles are not claimed: whoami's fullname is the user name (the test expects 'Dummy User')"
    ),
    "tests/test_hf_api.py::TestCommitApi::test_create_repo_private_by_default": (
        "organisations and Enterprise defaults (private by default) are not claimed"
    ),
    "tests/test_hf_api.py::TestCommitApi::test_commit_preflight_on_lots_of_lfs_files": _PREUPLOAD_LFS,
    "tests/test_hf_api.py::TestCommitApi::test_create_commit_mutates_operations": _PREUPLOAD_LFS,
    "tests/test_hf_api.py::TestCommitApi::test_pre_upload_before_commit": _PREUPLOAD_LFS,
    "tests/test_snapshot_download.py::TestSnapshotDownload::test_xet_file_skips_per_file_head_call": _XET,
    "tests/test_hf_file_system.py::TestHfFileSystemRepositoryRO::test_get_file_with_xet": _XET,
    "tests/test_commit_scheduler.py::TestCommitScheduler::test_sync_and_squash_history": (
        "super_squash_history (rewriting a branch's history into one commit) is not claimed"
    ),
}
"""Test ids (``module::Class::test``, or a prefix ending in ``::``) expected to fail, each with why: a Hub feature
the local Hub does not claim, or a test that needs huggingface.co's own data."""

USERS = {  # the maintainers' dummy users and tokens, from their tests/testing_constants.py
    "USER": ("__DUMMY_HUB_USER__", "hf_HubCITokenXXXXXXXXXXXXXXXXXXXXX"),
    "OTHER_USER": ("DVUser", "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"),
    "ENTERPRISE_USER": ("EnterpriseAdmin", "hf_enterprise_admin_token"),
}


def fetch_sdist(version: str) -> Path:
    """The sdist of huggingface_hub ``version``, downloaded once from the package index."""
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / f"huggingface_hub-{version}.tar.gz"
    if not sdist.is_file():
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                   f"huggingface_hub=={version}", "--dest", str(CACHE)]  # fmt: skip
        subprocess.run(command, check=True, timeout=600)
    if not sdist.is_file():
        raise SystemExit(f"pip did not fetch {sdist.name}; check that the package index is reachable.")
    return sdist


def unpack_tests(sdist: Path, version: str, into: Path) -> Path:
    """Unpack the sdist's ``tests/`` (regular files only, nothing outside it) into ``into``; the tests folder."""
    prefix = f"huggingface_hub-{version}/tests/"
    tests = into / "tests"
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            name = member.name
            if not name.startswith(prefix) or not member.isfile() or ".." in Path(name).parts:
                continue
            target = tests / name[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None, "a regular file has a reader"
            with source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
    constants = tests / "testing_constants.py"
    text = constants.read_text()
    if STAGING_LINE not in text:
        raise SystemExit(f"{constants.name} of huggingface_hub {version} has no line {STAGING_LINE!r}: update run.py.")
    constants.write_text(
        "import os\n" + text.replace(STAGING_LINE, 'ENDPOINT_STAGING = os.environ["HF_SB3_SUITE_ENDPOINT"]')
    )
    shutil.copy(HERE / "upstream_conftest.py", tests / "conftest.py")
    (tests / "__init__.py").touch()
    (into / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    return tests


def run_suite(folder: Path, endpoint: str, selection: list[str], keyword: str | None, log: Path | None) -> Path:
    """Run the selection with pytest in ``folder`` (its output to ``log``, else discarded); the JUnit XML report."""
    report = folder / "report.xml"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGING"))}
    env.update(HF_SB3_SUITE_ENDPOINT=endpoint, HF_ENDPOINT=endpoint, HF_HOME=str(folder / "hf-home"),
               HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1")  # fmt: skip
    command = [sys.executable, "-m", "pytest", "-c", str(folder / "pytest.ini"), "--rootdir", str(folder), "-q",
               "-p", "no:randomly", f"--timeout={PER_TEST_TIMEOUT}", f"--junitxml={report}", *selection]  # fmt: skip
    if keyword:
        command += ["-k", keyword]
    with open(log or os.devnull, "w") as output:
        subprocess.run(command, cwd=folder, env=env, timeout=RUN_TIMEOUT, check=False, stdout=output, stderr=output)
    return report


def outcomes(report: Path) -> dict[str, str]:
    """Each test's id (``module::Class::test``) and outcome (passed, failed, skipped) from a JUnit XML report."""
    results = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        parts = module.split("/")
        # classname is "tests.test_hf_api.TestCommitApi" or "tests.test_file_download"
        if parts[-1][:1].isupper():
            test_id = f"{'/'.join(parts[:-1])}.py::{parts[-1]}::{case.get('name')}"
        else:
            test_id = f"{module}.py::{case.get('name')}"
        if case.find("skipped") is not None:
            results[test_id] = "skipped"
        elif case.find("failure") is not None or case.find("error") is not None:
            results[test_id] = "failed"
        else:
            results[test_id] = "passed"
    return results


def exclusion_for(test_id: str) -> str | None:
    """Why ``test_id`` is expected to fail, if it is."""
    for pattern, reason in KNOWN_EXCLUSIONS.items():
        if (
            test_id == pattern
            or (pattern.endswith("::") and test_id.startswith(pattern))
            or (test_id.startswith(pattern + "["))
        ):
            return reason
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="keyword", help="only the tests whose names match (pytest's -k)")
    parser.add_argument("--pytest-output", type=Path, help="write pytest's own output (tracebacks) to this file")
    args = parser.parse_args(argv)

    from huggingface_sb3 import LocalHub
    from huggingface_sb3.hub_server import TokenGrant

    version = importlib.metadata.version("huggingface_hub")
    sdist = fetch_sdist(version)
    (user, token), *others = USERS.values()
    grants = [TokenGrant(other_token, other_user) for other_user, other_token in others]
    with tempfile.TemporaryDirectory(prefix="hub-client-suite-") as scratch:
        folder = Path(scratch)
        unpack_tests(sdist, version, folder)
        with LocalHub(folder / "hub", user=user, token=token, grants=grants, in_subprocess=True) as hub:
            report = run_suite(folder, hub.endpoint, list(SELECTION), args.keyword, args.pytest_output)
        if not report.is_file():
            print(f"pytest wrote no report: the run failed before any test (see {report}).")
            return 1
        results = outcomes(report)
    unexpected = sorted(t for t, outcome in results.items() if outcome == "failed" and exclusion_for(t) is None)
    stale = sorted(t for t, outcome in results.items() if outcome == "passed" and exclusion_for(t) is not None)
    excluded = [t for t, outcome in results.items() if outcome != "skipped" and exclusion_for(t) is not None]
    relevant = [t for t, outcome in results.items() if outcome != "skipped" and exclusion_for(t) is None]
    passed = sum(results[t] == "passed" for t in relevant)
    skipped = sum(outcome == "skipped" for outcome in results.values())
    for test_id in unexpected:
        print(f"FAILED {test_id}")
    for test_id in stale:
        print(f"PASSES BUT EXCLUDED {test_id}: remove it from KNOWN_EXCLUSIONS")
    share = passed / len(relevant) if relevant else 0.0
    print(f"huggingface_hub {version}'s own tests against the local Hub: {passed} of {len(relevant)} relevant "
          f"passed ({share:.0%}); {len(excluded)} excluded (feature not claimed, or production data), "
          f"{skipped} skipped")  # fmt: skip
    return 1 if unexpected or stale else 0


if __name__ == "__main__":
    sys.exit(main())
