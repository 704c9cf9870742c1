// Opens the host's delivery-log page in headless Chromium (Debian's), as a browser user would, with the bearer token
// the page requires, and reports what the page shows: the timelines and their rows. Writes a screenshot.
//   node deliveries_page.js <url> <token> <screenshot.png>
const { chromium } = require('playwright-core');

(async () => {
  const [url, token, screenshot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ extraHTTPHeaders: { Authorization: `Bearer ${token}` } });
    const response = await page.goto(url, { waitUntil: 'load' });
    await page.screenshot({ path: screenshot, fullPage: true });
    const timelines = await page.$$eval('section.timeline', sections => sections.map(s => ({
      key: s.getAttribute('data-key'),
      status: s.querySelector('.status')?.textContent,
      rows: [...s.querySelectorAll('tbody tr')].map(r => [...r.querySelectorAll('td')].map(td => td.textContent)),
    })));
    console.log(JSON.stringify({ status: response.status(), title: await page.title(), timelines }));
  } finally {
    await browser.close();
  }
})().catch(e => { console.error(e.message); process.exit(1); });
