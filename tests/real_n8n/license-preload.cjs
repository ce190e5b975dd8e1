// license-preload.cjs - TEST-ONLY Node preload for a throwaway local n8n (never part of what ships).
//
// Usage: NODE_OPTIONS="--require /path/to/license-preload.cjs" n8n start   (start.sh does this)
//
// n8n's token exchange module is gated by the enterprise licence flag 'feat:tokenExchange'
// (reference section 6). This preload wraps
//   LicenseState.prototype.isLicensed  (@n8n/backend-common/dist/license-state.js)
//   License.prototype.isLicensed       (n8n/dist/license.js)
// so that they answer true for 'feat:tokenExchange' ONLY, and n8n's own answer for everything
// else. (Granting every flag breaks things: 'feat:apiDisabled' would switch API keys off.)
//
// Optional: N8N_FLEET_DEBUG_EXCHANGE=1 also wraps TokenExchangeService.prototype.exchange
// (n8n/dist/modules/token-exchange/services/token-exchange.service.js) to log the failure reason
// n8n hides from clients (e.reason, e.g. email_not_verified, token_replay, unknown_key).
//
// How: the target modules are not required here (that would change n8n's load order); instead the
// CommonJS '.js' loader is wrapped and each target is patched right after n8n itself loads it.
// Targets are the files of the n8n install found through $N8N_FLEET_N8N_DIR (the n8n package
// folder, e.g. <cache>/n8n/node_modules/n8n) or require.resolve from the main script / cwd;
// as a fallback any file whose path ends with the same suffix is patched too.
// Each patch logs one '[license-preload] ...' line to stderr.
'use strict';
const Module = require('module');
const path = require('path');

const FLAG = 'feat:tokenExchange';
const debugExchange = process.env.N8N_FLEET_DEBUG_EXCHANGE === '1';
const say = (msg) => process.stderr.write(`[license-preload pid=${process.pid}] ${msg}\n`);

function resolveN8nDir() {
  if (process.env.N8N_FLEET_N8N_DIR) return path.resolve(process.env.N8N_FLEET_N8N_DIR);
  const paths = [process.argv[1] && path.dirname(process.argv[1]), process.cwd()].filter(Boolean);
  try {
    return path.dirname(require.resolve('n8n/package.json', { paths }));
  } catch {
    return null;
  }
}

function resolveFrom(dir, request) {
  try {
    return require.resolve(request, { paths: [dir] });
  } catch {
    return null;
  }
}

const n8nDir = resolveN8nDir();
const SUFFIXES = {
  licenseState: path.join('@n8n', 'backend-common', 'dist', 'license-state.js'),
  license: path.join('n8n', 'dist', 'license.js'),
  exchange: path.join('n8n', 'dist', 'modules', 'token-exchange', 'services', 'token-exchange.service.js'),
};
const exact = new Map(); // absolute filename -> kind
if (n8nDir) {
  const add = (kind, file) => file && exact.set(file, kind);
  add('license', path.join(n8nDir, 'dist', 'license.js'));
  add('exchange', path.join(n8nDir, 'dist', 'modules', 'token-exchange', 'services', 'token-exchange.service.js'));
  add('licenseState', resolveFrom(n8nDir, '@n8n/backend-common/dist/license-state.js'));
}

function kindOf(filename) {
  if (exact.has(filename)) return exact.get(filename);
  for (const [kind, suffix] of Object.entries(SUFFIXES)) {
    if (filename.endsWith(path.sep + suffix)) return kind;
  }
  return null;
}

const grants = (feature) =>
  feature === FLAG || (Array.isArray(feature) && feature.includes(FLAG));

function wrapIsLicensed(cls, label) {
  if (!cls || !cls.prototype || typeof cls.prototype.isLicensed !== 'function') {
    say(`WARNING: ${label}.prototype.isLicensed not found; not patched`);
    return;
  }
  if (cls.prototype.isLicensed.__n8nFleetPatched) return;
  const original = cls.prototype.isLicensed;
  const wrapped = function isLicensed(feature, ...rest) {
    if (grants(feature)) return true;
    return original.call(this, feature, ...rest);
  };
  wrapped.__n8nFleetPatched = true;
  cls.prototype.isLicensed = wrapped;
  say(`patched ${label}.prototype.isLicensed (true for ${FLAG} only)`);
}

function wrapExchange(cls) {
  if (!cls || !cls.prototype || typeof cls.prototype.exchange !== 'function') {
    say('WARNING: TokenExchangeService.prototype.exchange not found; not patched');
    return;
  }
  const original = cls.prototype.exchange;
  cls.prototype.exchange = async function exchange(...args) {
    try {
      return await original.apply(this, args);
    } catch (e) {
      say(`token exchange failed: reason=${e && e.reason} message=${e && e.message}` +
        (e && e.issues ? ` issues=${JSON.stringify(e.issues)}` : ''));
      throw e;
    }
  };
  say('patched TokenExchangeService.prototype.exchange (logs failure reasons)');
}

const originalJs = Module._extensions['.js'];
Module._extensions['.js'] = function loadJs(module, filename) {
  const result = originalJs.call(this, module, filename);
  const kind = kindOf(filename);
  if (kind) {
    try {
      if (kind === 'licenseState') wrapIsLicensed(module.exports.LicenseState, 'LicenseState');
      else if (kind === 'license') wrapIsLicensed(module.exports.License, 'License');
      else if (kind === 'exchange' && debugExchange) wrapExchange(module.exports.TokenExchangeService);
    } catch (e) {
      say(`WARNING: patching ${filename} failed: ${e && e.stack}`);
    }
  }
  return result;
};
