// Open voki-tui serve's URL in headless Chromium (Debian's, no download), wait until the
// page has received the board's first bytes, take a screenshot, and print what happened as
// one JSON line: {"first_byte": bool, "status": n, "frames": n, "bytes": n}: the page's
// websocket frames from the server, i.e. the board's screen updates.
// Usage: node browser.mjs URL SCREENSHOT.png [seconds]
import { chromium } from "playwright-core";

const [url, shot, seconds = "30"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const result = { first_byte: false, status: null, frames: 0, bytes: 0 };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("websocket", (socket) => {
    socket.on("framereceived", (frame) => {
      result.frames += 1;
      result.bytes += frame.payload.length;
    });
  });
  const response = await page.goto(url, { waitUntil: "domcontentloaded" });
  result.status = response ? response.status() : null;
  if (result.status === 200) {
    await page.waitForFunction(() => document.body.classList.contains("-first-byte"), null, {
      timeout: Number(seconds) * 1000,
    });
    result.first_byte = true;
    await page.waitForTimeout(4000); // let the board paint its first live figures
    await page.screenshot({ path: shot });
  }
} catch (error) {
  result.error = String(error).slice(0, 300);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
