import http from 'http';
import { Counter } from './counter';
import { describeUptime } from './uptime';

const port = Number(process.env.PORT || 8080);
const started = Date.now();
const hits = new Counter();

const server = http.createServer((req, res) => {
  const path = (req.url || '/').split('?')[0];
  hits.add(path);
  if (path === '/uptime') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ uptime: describeUptime(Date.now() - started) }));
    return;
  }
  if (path === '/stats') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ service: 'uptime-service', hits: hits.top(5) }));
    return;
  }
  res.statusCode = 404;
  res.end('not found\n');
});

server.listen(port, () => {
  console.log(`uptime-service listening on ${port}`);
});
