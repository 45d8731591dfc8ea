// server.js answers every request with how long it has been up, as ms words it.
const http = require("http");
const ms = require("ms");

const started = Date.now();
const port = Number(process.env.PORT || 8080);

http
  .createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end(`up ${ms(Date.now() - started, { long: true })}\n`);
  })
  .listen(port, () => console.log(`listening on :${port}`));
