"""The server side of NTLM authentication ([MS-NLMP]) for the fault
server: the CHALLENGE_MESSAGE it sends and the check of the client's
AUTHENTICATE_MESSAGE against a password.

NTLMv1 (what GNU SASL's client, libntlm, answers) is checked with the NT
response: DES of the server challenge under the MD4 hash of the
password.  OpenSSL 3 moved MD4 into its legacy provider, so hashlib often
lacks it: MD4 is written here from RFC 1320.  DES comes from the
cryptography package (python3-cryptography).
"""

import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SIGNATURE = b"NTLMSSP\0"
NEGOTIATE_UNICODE = 0x00000001
REQUEST_TARGET = 0x00000004
NEGOTIATE_NTLM = 0x00000200


# ---- MD4 (RFC 1320) ----------------------------------------------------

def _rotl(x, n):
    x &= 0xFFFFFFFF
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def md4(data):
    bits = len(data) * 8
    data = data + b"\x80" + b"\0" * ((55 - len(data)) % 64)
    data += struct.pack("<Q", bits & 0xFFFFFFFFFFFFFFFF)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for block in range(0, len(data), 64):
        x = struct.unpack("<16I", data[block:block + 64])
        aa, bb, cc, dd = a, b, c, d
        # round 1: F(x,y,z) = xy v not(x) z
        for i in range(16):
            k, s = i, (3, 7, 11, 19)[i % 4]
            f = (b & c) | (~b & d)
            a, b, c, d = d, _rotl(a + f + x[k], s), b, c
        # round 2: G(x,y,z) = xy v xz v yz, constant 5A827999
        for i in range(16):
            k, s = (i % 4) * 4 + i // 4, (3, 5, 9, 13)[i % 4]
            g = (b & c) | (b & d) | (c & d)
            a, b, c, d = d, _rotl(a + g + x[k] + 0x5A827999, s), b, c
        # round 3: H(x,y,z) = x xor y xor z, constant 6ED9EBA1
        for i in range(16):
            k = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)[i]
            s = (3, 9, 11, 15)[i % 4]
            h = b ^ c ^ d
            a, b, c, d = d, _rotl(a + h + x[k] + 0x6ED9EBA1, s), b, c
        a = (a + aa) & 0xFFFFFFFF
        b = (b + bb) & 0xFFFFFFFF
        c = (c + cc) & 0xFFFFFFFF
        d = (d + dd) & 0xFFFFFFFF
    return struct.pack("<4I", a, b, c, d)


# ---- NTLMv1 --------------------------------------------------------------

def nt_hash(password):
    return md4(password.encode("utf-16-le"))


def _des_key(seven):
    """A DES key from 56 bits: seven bits per byte, parity bit left 0."""
    n = int.from_bytes(seven, "big")
    return bytes(((n >> (49 - 7 * i)) & 0x7F) << 1 for i in range(8))


def _des(key7, block):
    cipher = Cipher(algorithms.TripleDES(_des_key(key7)), modes.ECB())
    enc = cipher.encryptor()
    return enc.update(block) + enc.finalize()


def ntlmv1_response(password, challenge):
    """DESL(): the 16-byte hash padded to 21 bytes, three DES keys."""
    key = nt_hash(password) + b"\0" * 5
    return b"".join(_des(key[i:i + 7], challenge) for i in (0, 7, 14))


# ---- messages ------------------------------------------------------------

def challenge_message(challenge):
    """A CHALLENGE_MESSAGE with an empty target name and no target
    information."""
    empty = struct.pack("<HHI", 0, 0, 48)
    flags = NEGOTIATE_UNICODE | REQUEST_TARGET | NEGOTIATE_NTLM
    return (SIGNATURE + struct.pack("<I", 2) + empty +
            struct.pack("<I", flags) + challenge + b"\0" * 8 + empty)


def _field(msg, offset):
    length, _, start = struct.unpack_from("<HHI", msg, offset)
    if start + length > len(msg):
        raise ValueError("NTLM field beyond the message")
    return msg[start:start + length]


def _text(raw, unicode):
    return raw.decode("utf-16-le" if unicode else "latin-1")


def parse_authenticate(msg):
    """The fields of an AUTHENTICATE_MESSAGE: user, domain, lm, nt."""
    if msg[:8] != SIGNATURE or struct.unpack_from("<I", msg, 8)[0] != 3:
        raise ValueError("not an NTLM AUTHENTICATE_MESSAGE")
    # a message without flags (the shortest form) is taken as Unicode,
    # which the challenge asked for
    flags = struct.unpack_from("<I", msg, 60)[0] if len(msg) >= 64 else 1
    unicode = bool(flags & NEGOTIATE_UNICODE)
    return {"lm": _field(msg, 12), "nt": _field(msg, 20),
            "domain": _text(_field(msg, 28), unicode),
            "user": _text(_field(msg, 36), unicode)}


def new_challenge():
    return os.urandom(8)


def verify(fields, password, challenge):
    """Whether the NT response is NTLMv1's for @password; anything else
    (NTLMv2, a missing response) is refused."""
    if password is None or len(fields["nt"]) != 24:
        return False
    return hmac.compare_digest(fields["nt"],
                               ntlmv1_response(password, challenge))
