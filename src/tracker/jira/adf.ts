/**
 * Plain text ↔ Atlassian Document Format (ADF), the rich-text JSON that Jira Cloud's REST v3 uses for
 * `description`. Writing: blank lines separate paragraphs, single newlines become `hardBreak`s.
 * Reading: every block node becomes a paragraph of text again (list items one per line), so plain text
 * round-trips unchanged apart from surrounding whitespace and runs of several blank lines.
 */

export interface AdfNode {
  type: string;
  text?: string;
  attrs?: Record<string, unknown>;
  content?: AdfNode[];
  version?: number;
}

export function textToAdf(text: string | null | undefined): AdfNode | null {
  if (text === null || text === undefined || text.trim() === "") return null;
  const paragraphs = text.replace(/\r\n?/g, "\n").split(/\n{2,}/);
  return {
    type: "doc",
    version: 1,
    content: paragraphs.map((p) => ({ type: "paragraph", content: inline(p) })),
  };
}

function inline(paragraph: string): AdfNode[] {
  const out: AdfNode[] = [];
  paragraph.split("\n").forEach((line, i) => {
    if (i > 0) out.push({ type: "hardBreak" });
    if (line.length > 0) out.push({ type: "text", text: line });
  });
  return out;
}

/** Block nodes whose children are list items; rendered one item per line. */
const LISTS = new Set(["bulletList", "orderedList", "taskList"]);

export function adfToText(doc: unknown): string | null {
  if (doc === null || doc === undefined) return null;
  if (typeof doc === "string") return doc; // tolerate a v2-style plain string
  const text = blocks((doc as AdfNode).content ?? []).trim();
  return text.length > 0 ? text : null;
}

function blocks(nodes: AdfNode[]): string {
  return nodes
    .map((n) => block(n))
    .filter((s) => s.length > 0)
    .join("\n\n");
}

function block(node: AdfNode): string {
  if (LISTS.has(node.type)) {
    return (node.content ?? [])
      .map((item, i) => `${node.type === "orderedList" ? `${i + 1}.` : "-"} ${blocks(item.content ?? [])}`)
      .join("\n");
  }
  if (node.type === "rule") return "---";
  const children = node.content ?? [];
  // A block holding blocks (blockquote, panel, table cell...) versus one holding inline content.
  if (children.some((c) => c.content !== undefined && c.type !== "text")) return blocks(children);
  return children.map(inlineText).join("") || inlineText(node);
}

function inlineText(node: AdfNode): string {
  switch (node.type) {
    case "text":
      return node.text ?? "";
    case "hardBreak":
      return "\n";
    case "mention":
      return String(node.attrs?.text ?? "");
    case "emoji":
      return String(node.attrs?.text ?? node.attrs?.shortName ?? "");
    case "inlineCard":
      return String(node.attrs?.url ?? "");
    case "date":
      return node.attrs?.timestamp ? new Date(Number(node.attrs.timestamp)).toISOString().slice(0, 10) : "";
    case "status":
      return String(node.attrs?.text ?? "");
    default:
      return (node.content ?? []).map(inlineText).join("");
  }
}
