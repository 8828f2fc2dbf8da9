"""Signed notes and checkpoints against the signed-note reference (golang.org/x/mod/sumdb/note):
its published key pair signs its published text to the byte."""

from __future__ import annotations

import pytest

from relevo.audit.note import Checkpoint, NoteError, Signer, Verifier, open_note, sign_note

SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
SIGNED = TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SIG = "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"


def test_keys_and_signature_match_the_reference():
    signer = Signer.parse(SKEY)
    assert signer.text() == SKEY
    assert signer.verifier().text() == VKEY == Verifier.parse(VKEY).text()
    assert sign_note(TEXT, signer) == SIGNED
    opened = open_note(SIGNED, [Verifier.parse(VKEY)])
    assert opened.text == TEXT and opened.signed_by == ("PeterNeumann",)


def test_a_second_signature_by_an_unknown_key_is_reported_not_trusted():
    opened = open_note(SIGNED + ENOCH_SIG, [Verifier.parse(VKEY)])
    assert opened.signed_by == ("PeterNeumann",) and opened.unknown == ("EnochRoot",)
    both = open_note(SIGNED + ENOCH_SIG, [Verifier.parse(VKEY), Verifier.parse(ENOCH)])
    assert both.signed_by == ("PeterNeumann", "EnochRoot")


@pytest.mark.parametrize("message,why", [
    (SIGNED.replace("problem,", "problem;"), "does not verify"),  # text edited after signing
    (SIGNED.replace("ZJkuBS9", "ZJkuBS8"), "does not verify"),  # the signature itself bent
    (TEXT + "\n" + ENOCH_SIG, "no trusted key signed"),  # another key's signature
    (TEXT, "malformed"),
    (TEXT + "\n", "malformed"),
    (SIGNED[:-1], "malformed"),
    (SIGNED + "Unexpected line.\n", "malformed"),
    ("\x01" + SIGNED, "malformed"),
])
def test_a_bad_note_is_refused_with_the_reason(message, why):
    with pytest.raises(NoteError, match=why):
        open_note(message, [Verifier.parse(VKEY)])


@pytest.mark.parametrize("key", [VKEY[:-1], VKEY.replace("c74f20a3", "c74f20a4"), "PeterNeumann+c74f20a3",
                                 VKEY.replace("ARpc", "ZRpc"), "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"])
def test_a_mangled_key_is_refused(key):
    with pytest.raises(NoteError):
        Verifier.parse(key)


def test_a_checkpoint_round_trips_and_refuses_a_malformed_body():
    signer = Signer.generate("relevo.test/audit")
    checkpoint = Checkpoint("relevo.test/audit", 42, bytes(range(32)))
    note = sign_note(checkpoint.text(), signer)
    assert note.startswith("relevo.test/audit\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n\u2014 relevo.test/audit ")
    assert Checkpoint.parse(open_note(note, [signer.verifier()]).text) == checkpoint
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(note, [Signer.generate("relevo.test/audit").verifier()])  # same name, another key
    for body in ("origin\n042\nAAAA\n", "origin\nten\n" + "A" * 44 + "\n", "origin\n1\nAAAA\n", "\n1\n"):
        with pytest.raises(NoteError, match="malformed checkpoint"):
            Checkpoint.parse(body)
