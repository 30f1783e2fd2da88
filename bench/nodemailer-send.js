// Sends COUNT copies of a message file through a Nodemailer pool.
// Usage: node nodemailer-send.js PORT COUNT CONNECTIONS MESSAGE_FILE
'use strict';
const fs = require('fs');
const nodemailer = require('nodemailer');

const [port, count, connections, file] = process.argv.slice(2);
const raw = fs.readFileSync(file);
const transport = nodemailer.createTransport({
  host: '127.0.0.1',
  port: Number(port),
  secure: false,
  ignoreTLS: true,
  pool: true,
  maxConnections: Number(connections),
  maxMessages: Infinity,
});

async function main() {
  const envelope = { from: 'bench@caqmail.test', to: ['sink@caqmail.test'] };
  const jobs = [];
  for (let i = 0; i < Number(count); i++)
    jobs.push(transport.sendMail({ envelope, raw }));
  await Promise.all(jobs);
  transport.close();
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
