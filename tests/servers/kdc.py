"""A private MIT Kerberos KDC on loopback for tests.

Everything lives in one temporary folder: the realm's database and stash,
the KDC's profile (kdc.conf), a krb5.conf for clients and servers, the
service keytab and the KDC's log.  No system-wide file is read or
written: every program started here, and every program a test runs
with env(), finds the realm through KRB5_CONFIG and KRB5_KDC_PROFILE.

    with PrivateKDC(folder, services=["smtp/127.0.0.1"]) as kdc:
        kdc.kinit(kdc.user, kdc.password, ccache)
        ... run a client with kdc.env(KRB5CCNAME=ccache) ...

The KDC (krb5kdc in the foreground) is stopped by __exit__ and by stop(),
also when a test fails.
"""

import os
import socket
import subprocess
import time

REALM = "CAQMAIL.TEST"
USER = "qm"
PASSWORD = "Kerberos-Pr\u00fcfung 9"

KRB5_CONF = """\
[libdefaults]
    default_realm = {realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    ignore_acceptor_hostname = true
[realms]
    {realm} = {{
        kdc = 127.0.0.1:{port}
    }}
[logging]
    kdc = FILE:{root}/kdc.log
"""

KDC_CONF = """\
[kdcdefaults]
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}
[realms]
    {realm} = {{
        database_name = {root}/principal
        key_stash_file = {root}/stash
        acl_file = {root}/kadm5.acl
        max_life = 1h
    }}
"""


def free_port():
    """A port free on 127.0.0.1 for both TCP and UDP."""
    while True:
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port


class PrivateKDC:

    def __init__(self, root, services=()):
        """@root is a new folder; @services are the service principals
        (without realm) whose keys go into the keytab."""
        self.root = root
        self.realm = REALM
        self.user, self.password = USER, PASSWORD
        self.principal = "%s@%s" % (USER, REALM)
        self.services = list(services)
        self.port = free_port()
        self.krb5_conf = os.path.join(root, "krb5.conf")
        self.kdc_conf = os.path.join(root, "kdc.conf")
        self.keytab = os.path.join(root, "smtp.keytab")
        self.proc = None
        os.makedirs(root, exist_ok=True)
        os.chmod(root, 0o755)
        fields = {"realm": REALM, "port": self.port, "root": root}
        with open(self.krb5_conf, "w") as f:
            f.write(KRB5_CONF.format(**fields))
        with open(self.kdc_conf, "w") as f:
            f.write(KDC_CONF.format(**fields))
        os.chmod(self.krb5_conf, 0o644)

    def env(self, **extra):
        """The environment of a program that uses this realm."""
        env = dict(os.environ, KRB5_CONFIG=self.krb5_conf,
                   KRB5_KDC_PROFILE=self.kdc_conf)
        env.update(extra)
        return env

    def _run(self, argv, stdin=None):
        proc = subprocess.run(argv, input=stdin, capture_output=True,
                              text=True, env=self.env(), timeout=60)
        if proc.returncode != 0:
            raise RuntimeError("%s failed: %s%s"
                               % (" ".join(argv), proc.stdout, proc.stderr))
        return proc

    def _kadmin(self, query):
        self._run(["kadmin.local", "-r", REALM, "-q", query])

    def _create_realm(self):
        master = os.urandom(12).hex()
        self._run(["kdb5_util", "create", "-s", "-r", REALM, "-P", master])
        self._kadmin('addprinc -pw "%s" %s' % (PASSWORD, USER))
        for service in self.services:
            self._kadmin("addprinc -randkey %s" % service)
            self.export_key(service, self.keytab)

    def rekey(self, service):
        """Gives @service a new random key; keytabs keep the old one."""
        self._kadmin("cpw -randkey %s" % service)

    def export_key(self, service, keytab):
        """Adds @service's current key to @keytab (kept as it is)."""
        self._kadmin("ktadd -k %s -norandkey %s" % (keytab, service))

    def start(self):
        self._create_realm()
        log = open(os.path.join(self.root, "krb5kdc.out"), "w")
        self.proc = subprocess.Popen(
            ["krb5kdc", "-n", "-r", REALM], stdin=subprocess.DEVNULL,
            stdout=log, stderr=log, env=self.env())
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("krb5kdc did not listen:\n" + self.log())

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def kinit(self, principal, password, ccache):
        """Gets a ticket-granting ticket into the credential cache
        @ccache; returns the finished kinit (its return code tells)."""
        return subprocess.run(
            ["kinit", "-c", ccache, principal], input=password + "\n",
            capture_output=True, text=True, env=self.env(), timeout=60)

    def log(self):
        out = ""
        for name in ("kdc.log", "krb5kdc.out"):
            try:
                with open(os.path.join(self.root, name)) as f:
                    out += f.read()
            except OSError:
                pass
        return out

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
