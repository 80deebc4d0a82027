"""Demucs weights on local disk: what is installed, checksums, installing from a file or folder.

A Demucs model repository is a flat folder, laid out like Demucs's remote repository:

* ``<signature>-<checksum>.th``: one trained network; ``checksum`` is the first hex digits
  of the file's SHA-256 (``955717e8-8726e21a.th`` is htdemucs' network ``955717e8``);
* ``<name>.yaml``: a named model (a "bag"), listing the signatures it averages
  (``htdemucs.yaml``: ``models: ['955717e8']``).

``demucs.pretrained.get_model(name, repo=folder)`` loads from such a folder without network,
checking each file's checksum against its name. This module knows the same layout without
importing torch or demucs (web processes and ``/healthz`` call it), and never downloads: the
operator installs files with ``manage.py demucs_weights install --from PATH``.

Published file names come from demucs's own ``remote/files.txt`` (package data), so a file
that claims a published signature must also carry the published checksum.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# Built from code, no weights: demucs.pretrained.get_model special-cases it.
BUILTIN_MODELS = frozenset({"demucs_unittest"})
_WEIGHT_NAME = re.compile(r"^(?P<sig>[0-9A-Za-z_]+?)(?:-(?P<checksum>[0-9a-f]{4,64}))?\.th$")


class WeightsError(ValueError):
    """A weights file is missing, misnamed or fails its checksum (readable message)."""


@dataclass(frozen=True)
class WeightFile:
    path: Path
    signature: str
    checksum: str | None  # from the file name; None when the name carries none


@dataclass(frozen=True)
class ModelStatus:
    name: str
    available: bool
    signatures: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


@dataclass
class InstallReport:
    installed: list[str] = field(default_factory=list)  # file names written into the repo
    unchanged: list[str] = field(default_factory=list)  # already there, same bytes
    bags: list[str] = field(default_factory=list)  # named models now complete


def demucs_remote_folder() -> Path | None:
    """demucs's packaged ``remote/`` folder (published names and bag files), if installed."""
    spec = importlib.util.find_spec("demucs")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "remote"
    return folder if folder.is_dir() else None


def published_files() -> dict[str, str]:
    """signature -> published file name (``955717e8`` -> ``955717e8-8726e21a.th``)."""
    folder = demucs_remote_folder()
    if folder is None or not (folder / "files.txt").is_file():
        return {}
    names: dict[str, str] = {}
    for line in (folder / "files.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and not line.startswith("root:"):
            names[line.split("-", 1)[0]] = line
    return names


def parse_weight_name(path: Path) -> WeightFile:
    match = _WEIGHT_NAME.match(path.name)
    if match is None:
        raise WeightsError(
            f"{path.name}: not a Demucs weights file name (expected <signature>-<sha256 prefix>.th)"
        )
    return WeightFile(path=path, signature=match["sig"], checksum=match["checksum"])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weight_file(path: Path) -> WeightFile:
    """Check ``path`` the way Demucs does (SHA-256 prefix = checksum in the name), and that a
    published signature carries its published checksum. Returns the parsed name."""
    weight = parse_weight_name(path)
    if weight.checksum is None:
        raise WeightsError(
            f"{path.name}: the name carries no checksum, so the file cannot be verified; "
            "name it <signature>-<first 8 hex digits of its sha256>.th"
        )
    published = published_files().get(weight.signature)
    if published is not None and published != path.name:
        raise WeightsError(f"{path.name}: Demucs publishes this signature as {published}")
    actual = sha256_of(path)
    if not actual.startswith(weight.checksum):
        raise WeightsError(
            f"{path.name}: checksum mismatch (sha256 starts {actual[: len(weight.checksum)]}, "
            f"the name says {weight.checksum}); the file is corrupt or incomplete"
        )
    return weight


def bag_signatures(path: Path) -> tuple[str, ...]:
    try:
        data = yaml.safe_load(path.read_text())
        models = data["models"]
    except (OSError, yaml.YAMLError, TypeError, KeyError) as error:
        raise WeightsError(f"{path.name}: not a Demucs model list ({error})") from None
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise WeightsError(f"{path.name}: 'models' must be a list of signatures")
    return tuple(models)


def repo_signatures(repo: Path) -> dict[str, Path]:
    """Signatures with a ``.th`` file in ``repo`` (names only: no hashing)."""
    found: dict[str, Path] = {}
    if not repo.is_dir():
        return found
    for path in sorted(repo.glob("*.th")):
        try:
            found[parse_weight_name(path).signature] = path
        except WeightsError:
            continue
    return found


def model_status(name: str, repo: Path | None) -> ModelStatus:
    """Can ``name`` be loaded from ``repo`` without any network access?"""
    if name in BUILTIN_MODELS:
        return ModelStatus(name=name, available=True)
    if repo is None or not repo.is_dir():
        return ModelStatus(name=name, available=False)
    have = repo_signatures(repo)
    bag = repo / f"{name}.yaml"
    if bag.is_file():
        try:
            signatures = bag_signatures(bag)
        except WeightsError:
            return ModelStatus(name=name, available=False)
    else:
        signatures = (name,)  # a bare signature names one network
    missing = tuple(sig for sig in signatures if sig not in have)
    return ModelStatus(name, not missing, signatures, missing)


def installed_models(repo: Path | None) -> list[ModelStatus]:
    """Every named model (bag file) in ``repo`` and every lone network, with completeness."""
    if repo is None or not repo.is_dir():
        return []
    statuses = [model_status(path.stem, repo) for path in sorted(repo.glob("*.yaml"))]
    in_bags = {sig for status in statuses for sig in status.signatures}
    statuses += [model_status(sig, repo) for sig in repo_signatures(repo) if sig not in in_bags]
    return statuses


def _copy_atomic(source: Path, target: Path) -> None:
    # Copy beside the target, then rename: a reader never sees half a file.
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def _sources(source: Path) -> tuple[list[Path], list[Path]]:
    if source.is_file():
        if source.suffix == ".yaml":
            return [], [source]
        return [source], []
    if source.is_dir():
        return sorted(source.glob("*.th")), sorted(source.glob("*.yaml"))
    raise WeightsError(f"{source} does not exist")


def install(source: Path, repo: Path) -> InstallReport:
    """Verify every weights file under ``source`` (a file or a folder), then copy them and
    any model lists into ``repo``. Nothing is copied unless every file verifies. Model lists
    Demucs ships (``htdemucs.yaml``, ...) are added for each model whose networks are now
    all present."""
    weights, bags = _sources(Path(source))
    if not weights and not bags:
        raise WeightsError(f"{source}: no .th weights or .yaml model lists found")
    verified = [verify_weight_file(path) for path in weights]
    for bag in bags:
        bag_signatures(bag)
    repo.mkdir(parents=True, exist_ok=True)
    report = InstallReport()
    existing = repo_signatures(repo)
    for weight in verified:
        target = repo / weight.path.name
        old = existing.get(weight.signature)
        if old is not None and old.name != target.name:
            old.unlink()  # one file per signature, or demucs refuses the folder
        if target.is_file() and sha256_of(target) == sha256_of(weight.path):
            report.unchanged.append(target.name)
            continue
        _copy_atomic(weight.path, target)
        report.installed.append(target.name)
    for bag in bags:
        _copy_atomic(bag, repo / bag.name)
        report.installed.append(bag.name)
    report.bags = _complete_bundled_bags(repo)
    return report


def _complete_bundled_bags(repo: Path) -> list[str]:
    remote = demucs_remote_folder()
    have = set(repo_signatures(repo))
    for path in sorted(remote.glob("*.yaml")) if remote else ():
        target = repo / path.name
        if not target.exists() and set(bag_signatures(path)) <= have:
            _copy_atomic(path, target)
    return [status.name for status in installed_models(repo) if status.available]


def check_repo(repo: Path) -> Iterable[tuple[str, str | None]]:
    """(file name, problem or None) for every weights file in ``repo`` (hashes each)."""
    for path in sorted(repo.glob("*.th")):
        try:
            verify_weight_file(path)
        except WeightsError as error:
            yield path.name, str(error)
        else:
            yield path.name, None
