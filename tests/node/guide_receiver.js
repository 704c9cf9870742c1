// The integration guide's Node.js example, exactly as the guide prints it (between the two markers), served by
// express with express.json() as its body parser, on 127.0.0.1 and a free port. The only addition inside the handler
// is an answer once "Process the webhook..." is done: without it the guide's handler never responds.
// Prints "port N", then "<idempotency key> <status>" per request.
const express = require('express');
const app = express();
app.use(express.json());
app.use((req, res, next) => {
    res.on('finish', () => console.log(`${req.headers['x-hokusai-idempotency-key'] || '-'} ${res.statusCode}`));
    next();
});

// --- the guide ---
const crypto = require('crypto');

function verifyWebhookSignature(payload, signature, secret) {
    const expectedSignature = crypto
        .createHmac('sha256', secret)
        .update(payload)
        .digest('hex');
    
    return crypto.timingSafeEqual(
        Buffer.from(signature),
        Buffer.from(expectedSignature)
    );
}

// In your webhook handler
app.post('/api/models/ready', (req, res) => {
    const signature = req.headers['x-hokusai-signature'];
    const payload = JSON.stringify(req.body);
    
    if (!verifyWebhookSignature(payload, signature, process.env.WEBHOOK_SECRET)) {
        return res.status(401).json({ error: 'Invalid signature' });
    }
    
    // Process the webhook...
    res.json({ status: 'success' });
});
// --- end of the guide ---

app.use((err, req, res, next) => res.status(500).json({ error: err.message }));
const server = app.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
