"""Test certificates, made with the openssl command: a private CA and
server certificates it signs, for the names a test chooses."""

import os
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class TestCA:
    """A CA in @folder: ca.pem (the trust anchor for ca_file) and
    server certificates made by issue()."""

    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.cert = os.path.join(folder, "ca.pem")
        self.key = os.path.join(folder, "ca.key")
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-keyout", self.key, "-out", self.cert, "-days", "2",
                 "-subj", "/CN=caqmail test CA", cwd=folder)

    def issue(self, name, sans):
        """A key and certificate for @sans ("DNS:localhost",
        "IP:127.0.0.1"); returns (certfile, keyfile)."""
        key = os.path.join(self.folder, name + ".key")
        csr = os.path.join(self.folder, name + ".csr")
        cert = os.path.join(self.folder, name + ".pem")
        ext = os.path.join(self.folder, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\n" % ",".join(sans))
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                 "-out", csr, "-subj", "/CN=%s" % name, cwd=self.folder)
        _openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey",
                 self.key, "-CAcreateserial", "-out", cert, "-days", "2",
                 "-extfile", ext, cwd=self.folder)
        os.chmod(key, 0o644)
        return cert, key


def self_signed(folder, name, sans):
    """A self-signed certificate (its own trust anchor); returns
    (certfile, keyfile)."""
    os.makedirs(folder, exist_ok=True)
    key = os.path.join(folder, name + ".key")
    cert = os.path.join(folder, name + ".pem")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             key, "-out", cert, "-days", "2", "-subj", "/CN=%s" % name,
             "-addext", "subjectAltName=%s" % ",".join(sans), cwd=folder)
    os.chmod(key, 0o644)
    return cert, key


def sha256_fingerprint(certfile):
    out = subprocess.run(["openssl", "x509", "-in", certfile, "-noout",
                          "-fingerprint", "-sha256"], check=True,
                         capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1]
