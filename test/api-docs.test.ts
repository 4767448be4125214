/**
 * The public API is documented: every name the package's entry exports (followed through re-exports to its
 * declaration) carries a TSDoc comment in the emitted .d.ts files that users' editors show.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import ts from 'typescript';
import { root } from './cli-helpers.js';

test('every public export has a TSDoc comment', () => {
  const entry = join(root, 'dist', 'src', 'index.d.ts');
  const program = ts.createProgram([entry], { skipLibCheck: true, types: [], noLib: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const exports = checker.getExportsOfModule(module);
  assert.ok(exports.length > 10, `the entry exports ${exports.length} names`);
  const undocumented = exports
    .map((s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s))
    .filter((s) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim() === '')
    .map((s) => s.name);
  assert.deepEqual(undocumented, [], `public names without a doc comment: ${undocumented.join(', ')}`);
});
