import ts from 'typescript';

/**
 * Keeps the old ways of building remote commands from coming back: scripts pasted together from template strings,
 * quoting by hand, raw script text, systemd lines written outside their renderer. Reads the source of provision/,
 * cluster/ and workloads/ with the TypeScript parser, so a template inside sh`…` (whose values sh quotes) is told
 * apart from one outside it.
 */

const SHELL_MODULE = 'core/remote/shell.ts';
const SYSTEMD_MODULE = 'provision/systemd-unit.ts';

/**
 * Text that starts a shell command, as the scripts revue-pi sends start: a template (or string sum) starting so, with
 * values pasted in, is a script built by hand. Shaped tightly (a command and the kind of argument it takes), so that
 * a message that merely names a program ("kubectl did not print JSON") is not taken for one.
 */
const COMMAND_START = new RegExp(
  '^\\s*(' +
    [
      '(k3s )?kubectl -',
      '(k3s )?kubectl (get|apply|delete|label|taint|describe|create|patch)( -| ?$| (nodes?|secrets?|crd|pods|events|namespaces?|services?|deployments\\S*|jobs\\S*)( |$))',
      'systemctl (daemon-reload|enable|disable|restart|start|stop|is-active|reboot|-)',
      'journalctl -',
      'hostnamectl ',
      'sudo -',
      'sh (-|/|\\$)',
      'curl -',
      '(rm|mkdir|mv|cp|chmod|install|stat|base64|timeout|nohup|date|set) [-+]',
      'cat [<>/"$]',
      "printf '",
      'echo [\'"$]',
      'dump_file ',
      'ip (link|addr|route) ',
      '(if|while|until) (\\[|!|command|test|grep|\\$)',
      'for [a-z_]+ in ',
      'case ',
      'exec ',
      'trap ',
      '\\[ -',
      '\\{ ',
      '[A-Za-z_][A-Za-z0-9_]*=(\\$\\(|\'|")',
      'Exec[A-Za-z]*=',
    ].join('|') +
    ')',
);

export interface Finding {
  file: string;
  line: number;
  rule: string;
  text: string;
}

function isShTagged(node: ts.Node): boolean {
  return ts.isTaggedTemplateExpression(node) && ts.isIdentifier(node.tag) && node.tag.text === 'sh';
}

/** What a template or a `+` chain of strings starts with, as written in the source. */
function leadingText(node: ts.Node): string | undefined {
  if (ts.isTemplateExpression(node)) return node.head.text;
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = leadingText(node.left);
    if (left !== undefined) return left;
    if (ts.isStringLiteral(node.left) || ts.isNoSubstitutionTemplateLiteral(node.left)) return node.left.text;
  }
  return undefined;
}

/** The findings in one source file (`file` is its path from the repository root). */
export function findUnsafeCommands(file: string, source: string): Finding[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const findings: Finding[] = [];
  const add = (node: ts.Node, rule: string) => {
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    findings.push({ file, line: line + 1, rule, text: node.getText(sf).slice(0, 100) });
  };
  const visit = (node: ts.Node, insideSh: boolean): void => {
    if (file !== SHELL_MODULE) {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) {
        const name = node.expression.text;
        if (name === 'shQuote') add(node, 'quoting by hand: put the value in sh`…`');
        if (name === 'rawShell') add(node, 'rawShell in product code: build the script with sh`…`');
      }
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'ShellScript') add(node, 'new ShellScript outside shell.ts');
      if (ts.isAsExpression(node) && /\bShellScript\b/.test(node.type.getText(sf))) add(node, 'cast to ShellScript');
    }
    // A script pasted together from text and values, outside sh`…` (inside it, a template is one quoted word).
    if (!insideSh && (ts.isTemplateExpression(node) || (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken))) {
      const head = leadingText(node);
      if (head !== undefined && COMMAND_START.test(head)) add(node, 'command built from a template or +: use sh`…`');
    }
    // systemd lines belong to the unit renderer.
    if (
      file !== SYSTEMD_MODULE &&
      (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node)) &&
      /^(\[(Unit|Service|Install)\]|Exec[A-Za-z]*=)/m.test(node.text)
    ) {
      add(node, 'systemd unit text outside renderSystemdUnit');
    }
    // Values inside sh`…` are quoted; a template inside one is a single word, so its own text is not checked.
    const childrenInsideSh = insideSh || isShTagged(node);
    ts.forEachChild(node, (child) => visit(child, childrenInsideSh && !(ts.isTaggedTemplateExpression(node) && child === node.tag)));
  };
  visit(sf, false);
  // An exported builder of a command or script returns a ShellScript.
  sf.forEachChild((node) => {
    if (
      ts.isFunctionDeclaration(node) &&
      node.name &&
      /^build\w*(Command|Script)$/.test(node.name.text) &&
      node.type &&
      !/\bShellScript\b/.test(node.type.getText(sf))
    ) {
      add(node.name, `${node.name.text} returns ${node.type.getText(sf)}, not a ShellScript`);
    }
    if (ts.isVariableStatement(node)) {
      for (const d of node.declarationList.declarations) {
        // Built with sh`…`, or by a builder (build…Command/Script: checked above to return a ShellScript, e.g. core/kube's buildKubectlGetCommand).
        const byBuilder =
          d.initializer &&
          ts.isCallExpression(d.initializer) &&
          ts.isIdentifier(d.initializer.expression) &&
          /^build\w*(Command|Script)$/.test(d.initializer.expression.text);
        if (ts.isIdentifier(d.name) && /_(COMMAND|SCRIPT)$|^GET_[A-Z_]+$/.test(d.name.text) && d.initializer && !isShTagged(d.initializer) && !byBuilder) {
          add(d.name, `${d.name.text} is not built with sh\`…\``);
        }
      }
    }
  });
  return findings;
}
