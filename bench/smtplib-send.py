"""Sends COUNT copies of a message over one connection with smtplib.
Usage: smtplib-send.py PORT COUNT MESSAGE_FILE"""
import smtplib
import sys

port, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(path, "rb") as f:
    raw = f.read()
with smtplib.SMTP("127.0.0.1", port) as smtp:
    smtp.ehlo("bench.caqmail.test")
    for _ in range(count):
        smtp.sendmail("bench@caqmail.test", ["sink@caqmail.test"], raw)
