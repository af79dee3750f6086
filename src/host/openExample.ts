/** Opens a dataset file at a record's line. */
import * as vscode from 'vscode';

/** The editor column for a file opened from a panel: not the panel's own. */
export function columnBesidePanel(panelColumn: vscode.ViewColumn | undefined): vscode.ViewColumn {
  return panelColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One;
}

/** Shows `file` with the cursor at the start of 1-based `line`, centred. */
export async function openFileAtLine(file: string, line: number, viewColumn?: vscode.ViewColumn): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const position = new vscode.Position(Math.max(0, line - 1), 0);
  const editor = await vscode.window.showTextDocument(document, {
    ...(viewColumn !== undefined ? { viewColumn } : {}),
    selection: new vscode.Range(position, position),
    preview: true,
  });
  editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenter);
  return editor;
}
