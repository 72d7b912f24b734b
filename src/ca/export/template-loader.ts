/**
 * Loads and renders the handlebars templates under the repository's `templates/` directory.
 *
 * Templates are found relative to the *package root* (the nearest ancestor of this module that
 * holds both `package.json` and `templates/`), never the cwd, so `ca` works from any directory
 * and from both `src/` (tsx) and `dist/src/` (compiled). Each render uses a fresh handlebars
 * environment (`Handlebars.create()`): no global helpers, no import-time registration.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { ExportError } from './export-error.js';

/** Finds the package root by walking up from `fromUrl` (default: this module). */
export function packageRoot(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return dir;
    const up = dirname(dir);
    if (up === dir) {
      throw new ExportError('EXPORT_TEMPLATE', 'cannot find the cardca package root (package.json + templates/)', {
        hint: 'Run cardca from its installed package; the templates/ directory must ship next to package.json.',
      });
    }
    dir = up;
  }
}

/** Reads `templates/<relPath>` as UTF-8. `root` overrides the package root (tests, custom installs). */
export function loadTemplate(relPath: string, root?: string): string {
  const base = join(root ?? packageRoot(), 'templates');
  const file = resolve(base, relPath);
  if (!file.startsWith(base + '/')) {
    throw new ExportError('EXPORT_TEMPLATE', `template path escapes templates/: ${relPath}`, {
      hint: 'Template names are relative to templates/.',
    });
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new ExportError('EXPORT_TEMPLATE', `cannot read template ${relPath}`, {
      hint: 'Check that the templates/ directory is complete.',
      cause: e,
    });
  }
}

export interface RenderOptions {
  /**
   * true for plain-text outputs (config files, Markdown): no HTML escaping, so callers must pass
   * values that are already safe for that format. false (default) for HTML.
   */
  noEscape?: boolean;
  helpers?: Record<string, Handlebars.HelperDelegate>;
}

/**
 * Renders template text with `data`. `strict` mode: a field missing from `data` is an error,
 * not an empty string, so a renamed field cannot silently drop a line from a config snippet.
 */
export function renderTemplate(name: string, text: string, data: unknown, options: RenderOptions = {}): string {
  const hb = Handlebars.create();
  for (const [k, fn] of Object.entries(options.helpers ?? {})) hb.registerHelper(k, fn);
  try {
    const tpl = hb.compile(text, { strict: true, noEscape: options.noEscape ?? false });
    return tpl(data);
  } catch (e) {
    throw new ExportError('EXPORT_TEMPLATE', `template ${name} failed to render: ${(e as Error).message}`, {
      hint: 'The template and the data it expects are out of step; check the template file.',
      cause: e,
    });
  }
}
