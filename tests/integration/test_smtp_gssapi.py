"""AUTH GSSAPI (RFC 4752) through GNU SASL against real Kerberos: a
private MIT KDC (tests/servers/kdc.py) and the private Postfix with Cyrus
SASL's GSSAPI and the service keytab.  The client gets its ticket with
kinit into a credential cache of the test's own (KRB5CCNAME); caqmail
asks for the service smtp/127.0.0.1, the configured host."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
from caqtest import Sandbox  # noqa: E402
from kdc import PrivateKDC  # noqa: E402
from postfix import private_postfix, strip_delivery_headers  # noqa: E402

DRIVER = os.environ.get("SMTP_DRIVER", "smtp-driver")
SERVICE = "smtp/127.0.0.1"

MESSAGE = (b"From: QM <qm@werk.example>\r\n"
           b"To: a@werk.example\r\n"
           b"Subject: Kerberos\r\n"
           b"Date: Thu, 03 Dec 2026 20:20:00 +0000\r\n"
           b"Message-ID: <gssapi-%d@werk.example>\r\n"
           b"\r\n"
           b"sent after AUTH GSSAPI\r\n")


class GssapiTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="caqmail-gssapi-")
        os.chmod(cls.root, 0o755)
        cls.addClassCleanup(subprocess.run, ["rm", "-rf", cls.root])
        cls.kdc = PrivateKDC(os.path.join(cls.root, "kdc"), [SERVICE])
        cls.addClassCleanup(cls.kdc.stop)
        cls.kdc.start()
        cls.postfix, cls.cert = private_postfix(cls.root, kdc=cls.kdc)
        cls.addClassCleanup(cls.postfix.stop)
        cls.postfix.start()

    def setUp(self):
        self.box = Sandbox()
        self.addCleanup(self.box.close)
        self.ccache = self.box.path("krb5cc")
        self.seen = len(self.postfix.delivered())
        self.log_seen = len(self.postfix.log())
        self.n = 0

    def kinit(self):
        proc = self.kdc.kinit(self.kdc.principal, self.kdc.password,
                              self.ccache)
        self.assertEqual(proc.returncode, 0, proc.stderr + self.kdc.log())

    def config(self, host="127.0.0.1"):
        return self.box.write_config(
            "[general]\ndata_dir = %s\n\n[smtp]\nhost = %s\nport = %d\n"
            "tls = starttls\nca_file = %s\nhelo_name = client.werk.example\n"
            "user = %s\nauth_mechanisms = GSSAPI\n"
            % (self.box.path("data"), host, self.postfix.gssapi_port,
               self.cert, self.kdc.principal))

    def krb5_env(self):
        return {"KRB5_CONFIG": self.kdc.krb5_conf,
                "KRB5CCNAME": "FILE:" + self.ccache}

    def env(self):
        return self.box.env(self.krb5_env())

    def drive(self, host="127.0.0.1"):
        """Sends one message; returns (it, the result, the driver's
        log)."""
        self.n += 1
        raw = MESSAGE % self.n
        path = self.box.write("msg.eml", raw)
        job = {"from": "qm@werk.example", "to": ["a@werk.example"],
               "file": path}
        proc = subprocess.run(
            [DRIVER, self.config(host), "--debug"],
            input=json.dumps({"mode": "batch", "messages": [job]}).encode(),
            capture_output=True, env=self.env(), timeout=120)
        log = proc.stderr.decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 0, log)
        return raw, json.loads(proc.stdout)[0], log

    def server_log(self):
        return self.postfix.log()[self.log_seen:]

    def assertNothingSent(self, result, log):
        self.assertEqual((result["outcome"], result["stage"]),
                         ("failed", "auth"), result)
        self.assertNotIn("MAIL FROM", log)
        self.assertEqual(len(self.postfix.delivered()), self.seen)

    def assertClientFailed(self, result, log, host):
        """caqmail found no usable ticket and sent no AUTH at all."""
        self.assertNothingSent(result, log)
        self.assertEqual(result["code"], 0, result)
        self.assertIn("AUTH GSSAPI failed on the client side", result["text"])
        self.assertIn("Kerberos ticket", result["text"])
        self.assertIn("'smtp@%s'" % host, result["text"])
        self.assertNotIn(">> AUTH", log)
        self.assertNotIn("GSSAPI authentication", self.server_log())

    def test_ticket_authenticates_and_mail_arrives(self):
        self.kinit()
        raw, r, log = self.drive()
        self.assertEqual(r["outcome"], "sent", (r, log, self.server_log()))
        self.assertIn("AUTH GSSAPI", log)
        self.assertIn("auth=GSSAPI", log)
        delivered = self.postfix.wait_for_mail(self.seen + 1)[self.seen]
        self.assertEqual(strip_delivery_headers(delivered), raw)
        self.assertIn(b"with ESMTPSA", delivered)
        self.assertRegex(self.server_log(),
                         r"sasl_method=GSSAPI, sasl_username=qm\b")
        # the service ticket caqmail asked for
        klist = subprocess.run(["klist", "-c", self.ccache],
                               capture_output=True, text=True,
                               env=self.env())
        self.assertIn("%s@%s" % (SERVICE, self.kdc.realm), klist.stdout)

    def test_smtp_check_names_gssapi(self):
        self.kinit()
        self.config()
        proc = self.box.run("smtp-check", env=self.krb5_env())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stdout, r"auth: +GSSAPI as '%s' succeeded"
                         % self.kdc.principal)

    def test_without_ticket_fails_at_auth(self):
        r, log = self.drive()[1:]
        self.assertClientFailed(r, log, "127.0.0.1")

    def test_unknown_service_principal_fails_at_auth(self):
        # "localhost" is the same server, but the realm has no key for
        # smtp/localhost: the KDC refuses the service ticket.
        self.kinit()
        r, log = self.drive(host="localhost")[1:]
        self.assertClientFailed(r, log, "localhost")

    def test_stale_server_key_gets_535(self):
        # The service's key changes in the realm; Postfix still has the
        # old one and cannot read the ticket.
        self.kinit()
        keytab = os.path.join(self.postfix.etc, "smtp.keytab")
        self.kdc.rekey(SERVICE)
        try:
            r, log = self.drive()[1:]
        finally:
            self.kdc.export_key(SERVICE, keytab)
        self.assertNothingSent(r, log)
        self.assertEqual(r["code"], 535, (r, self.server_log()))
        self.assertIn("authentication failed", self.server_log())


if __name__ == "__main__":
    unittest.main()
