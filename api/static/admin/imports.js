/* Past imports (invitationImports): newest first, a page at a time. */

import {
  $,
  LOCALE,
  ROOT,
  el,
  formatDate,
  formatNumber,
  graphql,
  plural,
  problemCount,
  problemsFile,
  say,
  sayFailure,
  t,
} from "./client.js";

const LIST = `query AdminImports($after: String) {
  invitationImports(first: 25, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id fileName status createdAt rowsTotal rowsProcessed invitedCount
      existingUsersUpdatedCount skippedCount hiddenCount createdBy { email }
      errors { code reason details { name value } }
    } }
  }
}`;

const body = $("imports").querySelector("tbody");
const more = $("imports-more");
const status = $("imports-status");
let cursor = null;

// Each cell is labelled with its column's header: on a phone the rows are cards (manage.css).
const labels = [...$("imports").querySelectorAll("thead th")].map((th) => th.textContent.trim());

const row = (job) => {
  const tr = el("tr");
  const problems = el("td");
  if (job.status === "DONE") {
    const id = encodeURIComponent(job.id);
    problems.append(
      el("a", t("admin.imports.export"), {
        href: `${ROOT}/invitations/export.xlsx?importId=${id}&lang=${encodeURIComponent(LOCALE)}`,
        download: "",
      }),
    );
  }
  if (job.status === "FAILED") {
    problems.append(
      el("a", plural("admin.imports.problems_file", problemCount(job.errors)), {
        href: problemsFile(job.id),
        download: "",
      }),
    );
  }
  tr.append(
    el("td", job.fileName, { class: "file-name" }),
    el("td", formatDate(job.createdAt)),
    el("td", job.createdBy ? job.createdBy.email : "", { class: "email" }),
    el("td", t(`admin.import.status.${job.status}`)),
    el("td", formatNumber(job.invitedCount)),
    el("td", formatNumber(job.existingUsersUpdatedCount)),
    el("td", formatNumber(job.skippedCount)),
    el("td", formatNumber(job.hiddenCount)),
    problems,
  );
  tr.querySelectorAll("td").forEach((td, index) => td.setAttribute("data-label", labels[index]));
  return tr;
};

const load = async () => {
  more.disabled = true;
  try {
    const data = await graphql(LIST, { after: cursor });
    const page = data.invitationImports;
    $("imports-total").textContent = page.totalCount
      ? plural("admin.imports.total", page.totalCount)
      : t("admin.imports.none");
    // No table of nothing (nor a stop for the keyboard on it) before the first upload.
    $("imports-box").hidden = !page.totalCount;
    body.append(...page.edges.map((edge) => row(edge.node)));
    cursor = page.pageInfo.endCursor;
    more.hidden = !page.pageInfo.hasNextPage;
    say(status, "");
  } catch (error) {
    sayFailure(status, error);
  } finally {
    more.disabled = false;
  }
};

more.addEventListener("click", load);
load();
