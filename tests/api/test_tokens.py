"""Token store: 0600 from creation, atomic replacement, per-(server, tenant, email) isolation."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from voki_tui.api.tokens import Identity, StoredTokens, TokenStore, normalize_server

ME = Identity.of("https://voki.example.com/", "acme", "Wall@Acme.test")


def record(identity: Identity = ME, refresh: str = "refresh-1") -> StoredTokens:
    return StoredTokens(
        identity=identity,
        refresh_token=refresh,
        access_token="access-1",
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip_and_modes(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "state")
    store.save(record())
    loaded = store.load(Identity.of("HTTPS://VOKI.example.com:443", "acme", "wall@acme.test"))
    assert loaded == record()
    assert mode(store.path_for(ME)) == 0o600
    assert mode(tmp_path / "state") == 0o700
    assert "refresh-1" not in repr(loaded)
    assert list((tmp_path / "state").glob("*.tmp")) == []


def test_file_is_0600_from_its_creation_even_with_a_permissive_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created_modes: list[int] = []
    real_open = os.open

    def spying_open(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        fd = real_open(path, flags, *args)
        if flags & os.O_CREAT:
            created_modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return fd

    monkeypatch.setattr(os, "open", spying_open)
    old_umask = os.umask(0)
    try:
        TokenStore(tmp_path).save(record())
    finally:
        os.umask(old_umask)
    assert created_modes == [0o600]
    assert mode(TokenStore(tmp_path).path_for(ME)) == 0o600


def test_the_real_name_only_ever_holds_a_complete_file(tmp_path: Path) -> None:
    """A reader racing many rewrites never sees a partial or empty token file."""
    store = TokenStore(tmp_path)
    store.save(record(refresh="r-0"))
    stop = threading.Event()
    bad: list[str] = []
    seen: set[str] = set()

    def reader() -> None:
        path = store.path_for(ME)
        while not stop.is_set():
            text = path.read_text()
            try:
                seen.add(json.loads(text)["refresh_token"])
            except (ValueError, KeyError):
                bad.append(text)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(1, 300):
            store.save(record(refresh=f"r-{i}-" + "x" * (i * 37 % 4000)))
    finally:
        stop.set()
        thread.join()
    assert bad == []
    assert len(seen) > 1  # the reader really raced the writer
    assert store.load(ME) is not None and store.load(ME).refresh_token.startswith("r-299-")  # type: ignore[union-attr]


def test_tokens_never_cross_server_tenant_or_email(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    store.save(record())
    for other in (
        Identity.of("https://evil.example.com", "acme", "wall@acme.test"),
        Identity.of("https://voki.example.com", "other", "wall@acme.test"),
        Identity.of("http://voki.example.com", "acme", "wall@acme.test"),
        Identity.of("https://voki.example.com:8443", "acme", "wall@acme.test"),
        Identity.of("https://voki.example.com", "acme", "someone@acme.test"),
    ):
        assert store.load(other) is None


def test_a_file_copied_to_another_identity_name_is_refused(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    store.save(record())
    other = Identity.of("https://evil.example.com", "acme", "wall@acme.test")
    store.path_for(other).write_bytes(store.path_for(ME).read_bytes())
    assert store.load(other) is None


def test_remove(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    store.save(record())
    assert store.remove(ME) is True
    assert store.load(ME) is None
    assert not store.path_for(ME).exists()
    assert store.remove(ME) is False


def test_corrupt_or_loose_files(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    store.save(record())
    path = store.path_for(ME)
    path.chmod(0o644)
    assert store.load(ME) is not None
    assert mode(path) == 0o600  # tightened on read
    path.write_text("{not json")
    assert store.load(ME) is None
    path.write_text(json.dumps({"identity": "x", "refresh_token": 5}))
    assert store.load(ME) is None


def test_last_login_is_remembered_without_secrets(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    assert store.last() is None
    store.save(record())
    store.remember_last("https://voki.example.com/", "acme", "Wall@Acme.test")
    assert store.last() == ME
    files = {p.name: p.read_text() for p in tmp_path.iterdir() if "last" in p.name}
    assert files and all("refresh" not in text for text in files.values())


def test_default_directory_follows_voki_tui_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOKI_TUI_HOME", str(tmp_path))
    store = TokenStore()
    store.save(record())
    assert store.path_for(ME).parent == tmp_path / "state"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("HTTPS://Voki.Example.com:443/", "https://voki.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:80/voki/", "http://[::1]/voki"),
    ],
)
def test_normalize_server(raw: str, normal: str) -> None:
    assert normalize_server(raw) == normal


def test_lock_is_exclusive_between_holders_and_released(tmp_path: Path) -> None:
    """Two processes' locks are two open file descriptions: flock makes them exclude."""
    store = TokenStore(tmp_path / "state")
    first, second = store.lock(ME), store.lock(ME)
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()
    assert mode(first.path) == 0o600


def test_lock_where_no_file_can_be_made_does_not_block(tmp_path: Path) -> None:
    """A kiosk whose state dir cannot be written still refreshes: there is no shared file to
    guard then. (A regular file where the directory should be fails even for root.)"""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    lock = TokenStore(blocker / "state").lock(ME)
    assert lock.try_acquire()
    lock.release()
