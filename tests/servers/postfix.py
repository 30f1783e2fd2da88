"""A private Postfix instance on loopback for tests.

Everything lives in one temporary folder: configuration, queue, the TLS
certificate, the Cyrus SASL user database and the Maildir that receives
every mail (owned by nobody).  /etc/postfix is only read (Postfix's own
file list).  Three listeners (four with Kerberos) on free high ports
of 127.0.0.1:

- `port`: plain SMTP, STARTTLS offered, no AUTH;
- `submission_port`: STARTTLS required, then AUTH (PLAIN, LOGIN)
  required to send;
- `smtps_port`: implicit TLS (RFC 8314), AUTH offered;
- `gssapi_port`, only with a Kerberos realm (tests/servers/kdc.py): AUTH
  GSSAPI (Cyrus) required to send, STARTTLS offered; smtpd reads the
  realm's krb5.conf and the service keytab through the environment.

Recipients matching the regexp table answer as chosen:
`reject550@...` 550 5.1.1, `defer450@...` 450 4.2.1, `close421@...` 421.
Nothing leaves the machine: every domain is delivered into the Maildir.

    with PrivatePostfix(folder, cert, key) as pf:
        ... send to 127.0.0.1:pf.port ...
        raws = pf.wait_for_mail(2)

or, with a certificate made for it, `pf, ca = private_postfix(folder)`.

The instance is stopped by __exit__ and by stop(), also when a test
fails; stop() kills the master process it started if `postfix stop`
does not end it.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

from certs import self_signed

USER = "caqmail@postfix.test"
PASSWORD = "Pr\u00fcf-Passwort 7"

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
127.0.0.1:{submission_port} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=$submission_restrictions
127.0.0.1:{smtps_port} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
{gssapi_listener}pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.test
mydomain = postfix.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = $myhostname ESMTP caqmail test
maillog_file = {root}/log/maillog
maillog_file_prefixes = {root}
alias_maps =
alias_database =
biff = no
smtputf8_enable = yes
message_size_limit = 104857600
virtual_mailbox_domains = static:all
virtual_mailbox_base = {root}/mail
virtual_mailbox_maps = static:catchall/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
virtual_mailbox_limit = 0
local_transport = error:local delivery is disabled
default_transport = error:nothing leaves this test server
relay_transport = error:nothing leaves this test server
smtpd_tls_chain_files = {root}/etc/key.pem, {root}/etc/cert.pem
smtpd_tls_security_level = may
smtpd_tls_loglevel = 0
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
  reject_unauth_destination
smtpd_recipient_restrictions =
  check_recipient_access regexp:{root}/etc/rcpt_access, permit
submission_restrictions =
  check_recipient_access regexp:{root}/etc/rcpt_access,
  permit_sasl_authenticated, reject
"""

RCPT_ACCESS = """\
/^reject550@/ 550 5.1.1 no such mailbox here
/^defer450@/ 450 4.2.1 mailbox busy, try later
/^close421@/ 421 4.3.2 service shutting down
"""

SASL_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: {root}/etc/sasldb2
"""


GSSAPI_LISTENER = """\
127.0.0.1:{port} inet n - n - - smtpd
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sasl_path=smtpd-gssapi
  -o smtpd_recipient_restrictions=$submission_restrictions
"""

GSSAPI_MAIN_CF = """\
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C
  KRB5_CONFIG={krb5_conf} KRB5_KTNAME=FILE:{keytab}
  KRB5RCACHETYPE=none
"""

GSSAPI_SASL_CONF = """\
mech_list: GSSAPI
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostfix:

    def __init__(self, root, cert, key, kdc=None):
        """@root is a new folder whose parents the postfix and nobody
        users can enter (mode o+x); @kdc, a started PrivateKDC whose
        keytab holds the key of smtp/127.0.0.1, adds `gssapi_port`."""
        self.root = root
        self.etc = os.path.join(root, "etc")
        self.maildir = os.path.join(root, "mail", "catchall")
        self.port = free_port()
        self.submission_port = free_port()
        self.smtps_port = free_port()
        self.gssapi_port = free_port() if kdc else None
        self.user, self.password = USER, PASSWORD
        self.started = False
        self._write_config(cert, key)
        if kdc is not None:
            self._write_gssapi(kdc)

    def _write(self, name, text, mode=0o644):
        path = os.path.join(self.etc, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def _write_config(self, cert, key):
        nobody = pwd.getpwnam("nobody")
        for sub in ("etc", "etc/sasl", "queue", "data", "log", "mail"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        os.chmod(self.root, 0o755)
        shutil.chown(os.path.join(self.root, "data"), "postfix")
        shutil.chown(os.path.join(self.root, "mail"), nobody.pw_uid,
                     nobody.pw_gid)
        shutil.copy(cert, os.path.join(self.etc, "cert.pem"))
        shutil.copy(key, os.path.join(self.etc, "key.pem"))
        os.chmod(os.path.join(self.etc, "key.pem"), 0o600)
        self._write("main.cf", MAIN_CF.format(
            root=self.root, uid=nobody.pw_uid, gid=nobody.pw_gid))
        self._write("master.cf", MASTER_CF.format(
            port=self.port, submission_port=self.submission_port,
            smtps_port=self.smtps_port,
            gssapi_listener=GSSAPI_LISTENER.format(port=self.gssapi_port)
            if self.gssapi_port else ""))
        self._write("rcpt_access", RCPT_ACCESS)
        self._write("sasl/smtpd.conf", SASL_CONF.format(root=self.root))
        sasldb = os.path.join(self.etc, "sasldb2")
        local, domain = self.user.split("@")
        subprocess.run(["saslpasswd2", "-f", sasldb, "-c", "-p", "-u",
                        domain, local], input=self.password.encode(),
                       check=True)
        shutil.chown(sasldb, "root", "postfix")
        os.chmod(sasldb, 0o640)

    def _write_gssapi(self, kdc):
        keytab = os.path.join(self.etc, "smtp.keytab")
        shutil.copy(kdc.keytab, keytab)
        shutil.chown(keytab, "postfix", "postfix")
        os.chmod(keytab, 0o600)
        with open(os.path.join(self.etc, "main.cf"), "a") as f:
            f.write(GSSAPI_MAIN_CF.format(krb5_conf=kdc.krb5_conf,
                                          keytab=keytab))
        self._write("sasl/smtpd-gssapi.conf", GSSAPI_SASL_CONF)

    def _postfix(self, *args):
        return subprocess.run(["postfix", "-c", self.etc] + list(args),
                              capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=60)

    def start(self):
        proc = self._postfix("start")
        self.started = True
        if proc.returncode != 0:
            self.stop()
            raise RuntimeError("postfix start failed: %s%s\n%s"
                               % (proc.stdout, proc.stderr, self.log()))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("postfix did not listen:\n" + self.log())

    def _master_pid(self):
        path = os.path.join(self.root, "queue", "pid", "master.pid")
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        if not self.started:
            return
        self.started = False
        pid = self._master_pid()
        self._postfix("stop")
        deadline = time.monotonic() + 10
        while pid and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def log(self):
        try:
            with open(os.path.join(self.root, "log", "maillog")) as f:
                return f.read()
        except OSError:
            return ""

    def delivered(self):
        """The raw messages in the Maildir, oldest first."""
        folder = os.path.join(self.maildir, "new")
        if not os.path.isdir(folder):
            return []
        paths = [os.path.join(folder, n) for n in os.listdir(folder)]
        paths.sort(key=lambda p: (os.stat(p).st_mtime, p))
        out = []
        for p in paths:
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_for_mail(self, count, seconds=60):
        """Waits until @count messages were delivered (Postfix delivers
        after it answered), then returns them."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            got = self.delivered()
            if len(got) >= count:
                return got
            time.sleep(0.1)
        raise AssertionError("Postfix delivered %d of %d mails:\n%s"
                             % (len(self.delivered()), count, self.log()))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def private_postfix(root, kdc=None):
    """A PrivatePostfix in @root/postfix, not started, whose TLS uses a
    certificate for 127.0.0.1 and localhost made in @root/certs; returns
    it and the certificate's file, the CA a client must trust."""
    cert, key = self_signed(os.path.join(root, "certs"), "postfix.test",
                            ["IP:127.0.0.1", "DNS:localhost"])
    return PrivatePostfix(os.path.join(root, "postfix"), cert, key,
                          kdc=kdc), cert


def strip_delivery_headers(raw):
    """The message as sent: without the headers Postfix puts on top
    (Return-Path, Delivered-To, X-Original-To, Received), with CRLF line
    ends."""
    added = (b"return-path:", b"delivered-to:", b"x-original-to:",
             b"received:")
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    i = 0
    while i < len(lines) and lines[i].lower().startswith(added):
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            i += 1
    return b"\r\n".join(lines[i:])
