// Runs the receiver README's Standard Webhooks snippet (passed as a file) with express.raw, on 127.0.0.1 and a free
// port. Prints "port N", then "<webhook-id> <status>" per request.
const express = require('express');
const fs = require('fs');
const app = express();
app.use((req, res, next) => {
    res.on('finish', () => console.log(`${req.headers['webhook-id'] || '-'} ${res.statusCode}`));
    next();
});
new Function('app', 'require', 'process', fs.readFileSync(process.argv[2], 'utf8'))(app, require, process);
app.use((err, req, res, next) => res.status(500).json({ error: err.message }));
const server = app.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
