"""Signed notes and checkpoints in the C2SP formats (c2sp.org/signed-note, c2sp.org/tlog-checkpoint).

A note is UTF-8 text ending in a newline, a blank line, then one line per signature:
"— <key name> <base64(key hash || signature)>". The key hash is the first four bytes of
SHA-256(name || "\\n" || 0x01 || Ed25519 public key). A checkpoint is a note whose text is the
log's origin, its size and its root hash (base64), each on its own line. Keys are written as
the Go tools write them ("name+hash+base64"), so an auditor can check a checkpoint with them too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"
DASH = "\u2014 "  # an em dash and a space open every signature line
MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or whose signature does not verify."""


def _key_hash(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def _valid_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" for c in name)


@dataclass(frozen=True)
class Verifier:
    """A public key that checks signatures: its name, key hash and Ed25519 key."""

    name: str
    key_hash: bytes
    public: bytes

    @classmethod
    def parse(cls, vkey: str) -> "Verifier":
        """A verifier key in its text form, "name+hash+base64(0x01 || public key)"."""
        parts = vkey.strip().split("+", 2)  # base64 may hold "+"
        if len(parts) != 3 or not _valid_name(parts[0]) or len(parts[1]) != 8:
            raise NoteError("a verifier key reads name+hash+key")
        name, hash_hex, encoded = parts
        try:
            key = base64.b64decode(encoded, validate=True)
            key_hash = bytes.fromhex(hash_hex)
        except (binascii.Error, ValueError):
            raise NoteError("a verifier key's hash or key is not well encoded") from None
        if len(key) != 33 or key[:1] != ED25519:
            raise NoteError("a verifier key must hold an Ed25519 public key")
        if _key_hash(name, key[1:]) != key_hash:
            raise NoteError("a verifier key's hash does not match its name and key")
        return cls(name, key_hash, key[1:])

    def text(self) -> str:
        """The key in its text form."""
        return f"{self.name}+{self.key_hash.hex()}+{base64.b64encode(ED25519 + self.public).decode()}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether signature is this key's over message."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
            return True
        except InvalidSignature:
            return False


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes under a name."""

    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> "Signer":
        """A new random key."""
        if not _valid_name(name):
            raise NoteError(f"a key name has no spaces or '+': {name!r}")
        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption())
        return cls(name, seed)

    @classmethod
    def parse(cls, skey: str) -> "Signer":
        """A signer key in its text form, "PRIVATE+KEY+name+hash+base64(0x01 || seed)"."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _valid_name(parts[2]):
            raise NoteError("a signer key reads PRIVATE+KEY+name+hash+key")
        try:
            key = base64.b64decode(parts[4], validate=True)
            key_hash = bytes.fromhex(parts[3])
        except (binascii.Error, ValueError):
            raise NoteError("a signer key's hash or key is not well encoded") from None
        if len(key) != 33 or key[:1] != ED25519:
            raise NoteError("a signer key must hold an Ed25519 seed")
        signer = cls(parts[2], key[1:])
        if signer.verifier().key_hash != key_hash:
            raise NoteError("a signer key's hash does not match its name and key")
        return signer

    def text(self) -> str:
        """The key in its text form (keep it secret)."""
        return (f"PRIVATE+KEY+{self.name}+{self.verifier().key_hash.hex()}+"
                f"{base64.b64encode(ED25519 + self.seed).decode()}")

    def verifier(self) -> Verifier:
        """The public half."""
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return Verifier(self.name, _key_hash(self.name, public), public)

    def signature_line(self, text: str) -> str:
        """The note signature line for text."""
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(text.encode())
        return f"{DASH}{self.name} {base64.b64encode(self.verifier().key_hash + signature).decode()}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or any(c < " " and c != "\n" for c in text):
        raise NoteError("malformed note: its text must be lines of printable characters, each ending in a newline")


def sign_note(text: str, *signers: Signer) -> str:
    """text signed by each signer, as a note."""
    _check_text(text)
    return text + "\n" + "".join(s.signature_line(text) for s in signers)


@dataclass(frozen=True)
class OpenedNote:
    """A note whose text one or more trusted keys signed."""

    text: str
    signed_by: tuple[str, ...]  # key names whose signatures verified
    unknown: tuple[str, ...]  # key names of signatures no trusted key could check


def open_note(message: str, verifiers: list[Verifier]) -> OpenedNote:
    """The note's text once at least one trusted key's signature on it verifies; a signature
    that claims a trusted key but does not verify refuses the note."""
    text, sep, signatures = message.rpartition("\n\n")
    if not sep:
        raise NoteError("malformed note: no blank line before its signatures")
    text += "\n"
    _check_text(text)
    lines = signatures.split("\n")
    if lines[-1] != "" or len(lines) < 2:
        raise NoteError("malformed note: its signatures must each end in a newline")
    lines = lines[:-1]
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("malformed note: too many signatures")
    trusted = {(v.name, v.key_hash): v for v in verifiers}
    signed, unknown = [], []
    for line in lines:
        if not line.startswith(DASH):
            raise NoteError("malformed note: a signature line starts with an em dash")
        name, _, encoded = line[len(DASH):].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteError(f"malformed note: the signature of {name!r} is not base64") from None
        if not _valid_name(name) or len(raw) < 5:
            raise NoteError("malformed note: a signature line reads '— name base64'")
        verifier = trusted.get((name, raw[:4]))
        if verifier is None:
            unknown.append(name)
        elif verifier.verify(text.encode(), raw[4:]):
            signed.append(name)
        else:
            raise NoteError(f"the signature of key {name}+{raw[:4].hex()} does not verify")
    if not signed:
        raise NoteError("no trusted key signed this note" + (f" (signed by {', '.join(unknown)})" if unknown else ""))
    return OpenedNote(text, tuple(signed), tuple(unknown))


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed statement of its size and root hash."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """The checkpoint's note text."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        """A checkpoint from its note text (extension lines after the root are allowed)."""
        lines = text.split("\n")
        if len(lines) < 4 or not lines[0] or not lines[1].isdigit() or (lines[1] != "0" and lines[1].startswith("0")):
            raise NoteError("malformed checkpoint: origin, size and root hash on the first three lines")
        try:
            root = base64.b64decode(lines[2], validate=True)
        except binascii.Error:
            raise NoteError("malformed checkpoint: its root hash is not base64") from None
        if len(root) != 32:
            raise NoteError("malformed checkpoint: its root hash is not 32 bytes")
        return cls(lines[0], int(lines[1]), root)
