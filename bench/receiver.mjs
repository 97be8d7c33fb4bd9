// A receiver for the delivery throughput benches, in its own process so that it does not share the
// bench's event loop: reads each request's body and answers 200. Plain HTTP, or HTTPS when given a
// certificate and key file. Tells its port over IPC, and on request ('count') how many connections
// (TLS sessions over HTTPS) it has accepted so far.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const [certFile, keyFile] = process.argv.slice(2);
let connections = 0;
const answer = (request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('ok');
  });
};
const server = certFile
  ? https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, answer)
  : http.createServer(answer);
server.on(certFile ? 'secureConnection' : 'connection', () => connections++);
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (message) => {
  if (message === 'count') process.send({ connections });
});
process.on('disconnect', () => process.exit(0));
