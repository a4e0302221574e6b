/* Downloads that can be refused (an export, letters): fetched by the page, so that a refusal
 * (nothing to print, signed out, letters unavailable) is said beside the link, in the admin's
 * words, instead of a failed download in the browser's list. */

import { el, formatNumber, problemWords, say, t } from "./client.js";

// What a refusal's code means for the admin (its words may hold the refusal's {count}); any
// other code is worded as an import problem, or keeps the server's message.
const REASONS = {
  NOT_FOUND: "admin.download.nothing",
  LETTERS_UNAVAILABLE: "admin.download.unavailable",
};

/** Why the server refused, in the admin's words. */
const reason = async (response, reasons) => {
  if (response.status === 401 || response.status === 403) {
    return t("admin.signed_out");
  }
  let problems = [];
  try {
    problems = (await response.json()).errors || [];
  } catch {
    return t("admin.failed");
  }
  if (!problems.length) {
    return t("admin.failed");
  }
  const words = (problem) =>
    reasons[problem.code]
      ? t(reasons[problem.code], { count: formatNumber(Number(problem.value) || 0) })
      : problemWords(problem);
  return problems.map(words).join(" ");
};

const fileName = (response) => {
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  return match ? match[1] : "download";
};

/** Hand a fetched file to the browser as a download of its own name. */
const save = (blob, name) => {
  const address = URL.createObjectURL(blob);
  const link = el("a", "", { href: address, download: name, hidden: "" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(address), 60_000);
};

/** Make the download `link` (its href as it is when clicked) say in `status` why there is no
 * file (`reasons`: the words for a refusal's code), or that it is being made. Opened in another
 * tab or window, it is an ordinary link. */
export const guardDownload = (link, status, reasons = REASONS) => {
  link.addEventListener("click", async (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    if (link.getAttribute("aria-disabled") === "true") {
      return; // already on its way
    }
    link.setAttribute("aria-disabled", "true");
    say(status, t("admin.download.preparing"));
    try {
      let response;
      let blob;
      try {
        response = await fetch(link.href, { credentials: "same-origin" });
        blob = response.ok ? await response.blob() : null;
      } catch {
        say(status, t("admin.offline"), "error");
        return;
      }
      if (!blob) {
        say(status, await reason(response, reasons), "error");
        return;
      }
      save(blob, fileName(response));
      say(status, "");
    } finally {
      link.removeAttribute("aria-disabled");
    }
  });
};
