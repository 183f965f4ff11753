// What the browser scripts share: their environment, checks, screenshots and the browser
// (Debian's chromium, never a download).
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`missing environment variable ${k}`);
  return v;
};
const SHOTS = env("SHOTS");
mkdirSync(SHOTS, { recursive: true });

export const say = (s) => console.log(`browser: ${s}`);
export const shot = async (page, name) => {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
};
export const expect = (cond, what) => {
  if (!cond) throw new Error(what);
};
export const launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
