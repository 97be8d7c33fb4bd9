// A receiver for the delivery throughput bench, in its own process so that it does not share the
// bench's event loop: reads each request's body and answers 200. Tells its port over IPC, and on
// request ('count') how many connections it has accepted so far.
import http from 'node:http';

let connections = 0;
const server = http.createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('ok');
  });
});
server.on('connection', () => connections++);
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (message) => {
  if (message === 'count') process.send({ connections });
});
process.on('disconnect', () => process.exit(0));
