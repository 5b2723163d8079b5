"""Where files live and how they are written: shipped model folders, the cache folder, atomic writes.

One copy of each, for every module that reads a shipped asset or writes a file
that another process (or a later run) may read:

- :func:`shipped` finds a folder of ``models/`` (``exposure.models`` when
  installed, ``models/`` beside ``exposure/`` in a source checkout).
- :func:`cache_dir` is the folder for derived files (embedding indexes,
  occupation scores): ``$EXPOSURE_CACHE_DIR``, else ``$XDG_CACHE_HOME/exposure``,
  else ``~/.cache/exposure``.
- :func:`write_atomic` writes a file so that readers see either no file or the
  whole file, even after ``kill -9``; the file's mode follows the umask (:func:`file_mode`), a
  temporary file is never left behind.
- :func:`embeddings_file_name` (:func:`embeddings_file_names`), :func:`load_embeddings`, :func:`save_embeddings`:
  embeddings kept in the cache folder (occupation indexes, capability sets).
- :func:`write_checked`, :func:`read_checked`: every cache file carries its checksum; a damaged one is
  built again, with a warning naming it.

>>> from exposure._assets import write_atomic
>>> write_atomic("/tmp/hello.txt", lambda f: f.write(b"hello"))   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import BinaryIO, Callable, List, Optional, Sequence, Union

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["shipped", "cache_dir", "encoder_identity", "umask", "file_mode", "write_atomic", "fsync_dir", "embeddings_file_name",
           "embeddings_file_names", "texts_checksum", "cached_float32_embeddings", "load_embeddings",
           "save_embeddings", "write_checked", "read_checked"]

PathLike = Union[str, os.PathLike]

_CHECKOUT_MODELS = Path(__file__).resolve().parent.parent / "models"


def shipped(folder: str) -> Path:
    """The shipped ``models/<folder>``: ``exposure.models`` when installed, ``models/`` in a checkout.

    >>> shipped("capabilities").name
    'capabilities'
    """
    try:
        from importlib.resources import files

        root = Path(str(files("exposure.models") / folder))
        if root.is_dir():
            return root
    except ModuleNotFoundError:
        pass
    # Running from a source checkout without installing: models/ sits beside exposure/.
    return _CHECKOUT_MODELS / folder


def cache_dir(path: Union[PathLike, None] = None) -> Path:
    """The folder for cached files: ``path``, else ``$EXPOSURE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/exposure``, else ``~/.cache/exposure``.

    >>> cache_dir("/tmp/my-cache")
    PosixPath('/tmp/my-cache')
    """
    if path is not None:
        return Path(path)
    if os.environ.get("EXPOSURE_CACHE_DIR"):
        return Path(os.environ["EXPOSURE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "exposure"


def encoder_identity(encoder) -> dict:
    """What an embedding depends on: the encoder's name, width and dtype. Every cache of embeddings, or of
    scores made from them, is keyed by it, so that a float16 index is never read by a float32 run.

    >>> from types import SimpleNamespace
    >>> encoder_identity(SimpleNamespace(name="m", dim=384, dtype="torch.float32"))
    {'name': 'm', 'dim': 384, 'dtype': 'torch.float32'}
    """
    return {"name": str(getattr(encoder, "name", encoder)), "dim": getattr(encoder, "dim", None),
            "dtype": str(getattr(encoder, "dtype", ""))}


def fsync_dir(path: PathLike) -> None:
    """Flush a folder's entries (a rename in it) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def umask() -> int:
    """The process's file mode creation mask (``022`` commonly), read without changing it where Linux tells it.

    >>> 0 <= umask() <= 0o777
    True
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore, the only portable way to read it
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets from ``open()``: ``0o666`` less the :func:`umask` (``0o644`` under ``022``,
    ``0o600`` under ``077``). Files written under a temporary name (0600 from :func:`tempfile.mkstemp`) are
    set to it before the rename, so that every file the library writes follows the umask.

    >>> file_mode() == 0o666 & ~umask()
    True
    """
    return 0o666 & ~umask()


def write_atomic(path: PathLike, write: Callable[[BinaryIO], object], mode: Optional[int] = None) -> None:
    """Write ``path`` through ``write(binary_file)``: under a temporary name in the same folder,
    flushed to disk, then renamed over ``path`` (atomic on POSIX).

    Readers see the old file or the whole new one. On any error (disk full, ``Ctrl-C``) the
    temporary file is removed and the error is raised; ``path`` is untouched. The file gets
    ``mode``, by default :func:`file_mode` (what the umask gives, not :func:`tempfile.mkstemp`'s 0600).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


# --------------------------------------------------------------------------- embeddings kept on disk

def embeddings_file_name(kind: str, encoder, texts: Sequence[str], version: str = "1",
                         key: Optional[dict] = None) -> str:
    """``{kind}-{encoder}-{dim}-{checksum}.npy``: the name under which the embeddings of ``texts`` by
    ``encoder`` are kept on disk. The checksum covers ``version``, the encoder's identity (name, width, dtype:
    a float16 index built on a GPU is not reused by a float32 run), anything in ``key`` and the texts.

    >>> from types import SimpleNamespace
    >>> embeddings_file_name("tasks", SimpleNamespace(name="m", dim=4, dtype="f32"), ["a"])[:12]
    'tasks-m-4-64'
    """
    identity = json.dumps(encoder_identity(encoder), sort_keys=True)
    if key is not None:
        identity += "\n" + json.dumps(key, sort_keys=True)
    slug = re.sub(r"[^A-Za-z0-9.]+", "_", str(encoder.name)).strip("_")[-60:]
    checksum = texts_checksum(texts, f"v{version}\n{identity}\n")
    return f"{kind}-{slug}-{encoder.dim}-{checksum}.npy"


def texts_checksum(texts: Sequence[str], header: str = "") -> str:
    """20 hex digits of SHA-256 over ``header`` and each text followed by a newline: the part of a cache file's
    name that changes when its texts (or what ``header`` says about them) change.

    >>> texts_checksum(["a"], "v1")
    'ddc807cf3ae35b2f6893'
    """
    digest = hashlib.sha256(header.encode("utf-8"))
    if len(texts):  # the same bytes as text by text, in one call
        digest.update(("\n".join(texts) + "\n").encode("utf-8"))
    return digest.hexdigest()[:20]


def embeddings_file_names(kind: str, encoder, texts: Sequence[str], version: str = "1",
                          key: Optional[dict] = None) -> List[str]:
    """Where the embeddings of ``texts`` by ``encoder`` may be kept, best first: the encoder's own file
    (:func:`embeddings_file_name`), then, for an encoder below float32 precision, the file a float32 run of
    the same model keeps. That one is at least as precise, so a bfloat16 or float16 run reads an index a
    float32 run built instead of building its own.

    >>> from types import SimpleNamespace
    >>> len(embeddings_file_names("tasks", SimpleNamespace(name="m", dim=4, dtype="torch.bfloat16"), ["a"]))
    2
    """
    names = [embeddings_file_name(kind, encoder, texts, version, key)]
    if str(getattr(encoder, "dtype", "")) not in ("torch.float32", "float32"):
        as_float32 = SimpleNamespace(name=encoder.name, dim=encoder.dim, dtype="torch.float32")
        names.append(embeddings_file_name(kind, as_float32, texts, version, key))
    return names


# --------------------------------------------------------------------------- cache files with their checksum

#: What ends every cache file: this mark, then the SHA-256 of the bytes before it (``write_checked``).
_CHECKSUM_MARK = b"exposure-sha256:"
_TRAILER = len(_CHECKSUM_MARK) + 32


def write_checked(path: PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Write a cache file: what ``write(binary_file)`` writes, then its checksum (a 48-byte trailer: a mark and
    the SHA-256 of the bytes before it), atomically (:func:`write_atomic`), so that :func:`read_checked` can
    tell a whole file from a damaged one. A ``.npy`` stays readable by :func:`numpy.load`.

    >>> write_checked("/tmp/x.bin", lambda f: f.write(b"hello")); bytes(read_checked("/tmp/x.bin"))
    b'hello'
    """
    buffer = io.BytesIO()
    write(buffer)
    data = buffer.getbuffer()
    digest = hashlib.sha256(data).digest()
    write_atomic(path, lambda f: (f.write(data), f.write(_CHECKSUM_MARK + digest)))


def read_checked(path: PathLike) -> Optional[memoryview]:
    """The contents of a cache file that :func:`write_checked` wrote, without the checksum; ``None`` when the
    file is missing, and (with a warning naming it, for the caller to build it again) when it cannot be read,
    carries no checksum or does not match it. Checking costs about 45 ms for 30 MB (SHA-256)."""
    path = Path(path)
    try:
        data = memoryview(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("cannot read the cache file %s (%s); building it again", path, exc)
        return None
    if len(data) < _TRAILER or data[-_TRAILER:-32] != _CHECKSUM_MARK:
        logger.warning("the cache file %s has no checksum (written by an older version or another program); "
                       "building it again", path)
        return None
    if hashlib.sha256(data[:-_TRAILER]).digest() != data[-32:]:
        logger.warning("the cache file %s is damaged (its checksum does not match its contents); building it "
                       "again", path)
        return None
    return data[:-_TRAILER]


def load_embeddings(path: Path, rows: int, dim: int) -> Optional[np.ndarray]:
    """The ``(rows, dim)`` array kept at ``path`` (as stored: float16 or float32), or ``None`` when the file is
    missing, damaged (a warning names it: :func:`read_checked`) or of another shape."""
    data = read_checked(path)
    if data is None:
        return None
    try:
        emb = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError):
        logger.warning("the cache file %s is not an array; building it again", path)
        return None
    return emb if emb.shape == (rows, dim) else None


def save_embeddings(path: Path, emb: np.ndarray) -> None:
    """Keep ``emb`` at ``path`` with its checksum (:func:`write_checked`), written atomically; ``OSError`` when
    it cannot be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_checked(path, lambda f: np.save(f, emb, allow_pickle=False))


def cached_float32_embeddings(path: Optional[Path], rows: int, dim: int, encode, what: str) -> np.ndarray:
    """The float32 ``(rows, dim)`` embeddings kept at ``path``, else ``encode()`` (float32), kept there.

    ``path=None``: no disk cache. A file that cannot be read is encoded again; one that cannot be written
    only warns (``what`` names the embeddings in the warning).
    """
    if path is not None:
        emb = load_embeddings(path, rows, dim)
        if emb is not None and emb.dtype == np.float32:
            logger.info("%s from the cache (%s)", what, path)
            return emb
    emb = np.ascontiguousarray(encode(), dtype=np.float32)
    if path is not None:
        try:
            save_embeddings(path, emb)
        except OSError as exc:
            logger.warning("could not cache the %s in %s (%s); they will be encoded again next time. Set "
                           "EXPOSURE_CACHE_DIR to a writable folder.", what, path.parent, exc)
    return emb
