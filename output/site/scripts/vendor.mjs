// Copies the browser bundles the page loads from node_modules into vendor/ (no CDN).
// Runs after `npm install`. stackgen wrote this file once; it is yours.
import { copyFileSync, mkdirSync } from 'node:fs';

const bundles = [
  'node_modules/bootstrap/dist/css/bootstrap.min.css',
  'node_modules/bootstrap/dist/js/bootstrap.bundle.min.js',
  'node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js',
];
mkdirSync('vendor', { recursive: true });
for (const bundle of bundles) {
  copyFileSync(bundle, 'vendor/' + bundle.split('/').pop());
}
