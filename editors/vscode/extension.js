// Starts `flowc lsp` over stdio for .flow files: diagnostics, hover,
// definitions, completion, rename and formatting come from the server.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("flow").get("server.path", "flowc");
  const run = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "flow",
    "flowc language server",
    { run, debug: run },
    { documentSelector: [{ scheme: "file", language: "flow" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
