// Progress in the chosen language, and the learner's words as a file for Anki.

import { api, download } from "./api.js";
import { announce, chooser, errorBox, h, languageName, main, prefs, report, show } from "./dom.js";

export async function progress() {
  const heading = show("Progress");
  const language = prefs.language;
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  heading.after(await chooser());
  let data;
  try {
    data = await api(`/api/progress?language=${encodeURIComponent(language)}&tz=${encodeURIComponent(tz)}`);
  } catch (error) {
    main().append(errorBox(error));
    return;
  }
  const figure = (label, value) => h("div", { class: "figure" }, h("dt", {}, label), h("dd", {}, String(value)));
  const coverage = data.coverage?.known;
  const problems = h("div", { class: "problems" });
  const exporter = (format, label) =>
    h(
      "button",
      {
        type: "button",
        onclick: async () => {
          report(problems, null);
          try {
            const file = await download(`/api/words/export?language=${encodeURIComponent(language)}&format=${format}`);
            const link = h("a", { href: URL.createObjectURL(file.blob), download: file.filename });
            document.body.append(link);
            link.click();
            link.remove();
            setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
            announce(`Downloaded ${file.filename}`);
          } catch (error) {
            report(problems, error);
          }
        },
      },
      label,
    );
  main().append(
    h("p", { class: "meta" }, `Your ${languageName(language)}`),
    h(
      "dl",
      { class: "figures-grid" },
      figure("Streak", `${data.streak_days} day${data.streak_days === 1 ? "" : "s"}${data.active_today ? "" : " (nothing yet today)"}`),
      figure("Learning", data.words.learning),
      figure("Known", data.words.known),
      figure("Ignored", data.words.ignored),
      figure("Reviews today", data.reviews_today),
      figure("Due now", data.due_now),
      figure("Passages read", data.passages_read),
      figure("Minutes listened", data.audio_minutes),
      coverage === null || coverage === undefined ? null : figure("Known words in recent passages", `${Math.round(coverage * 100)}%`),
    ),
    h("h3", {}, "Export your words"),
    h("p", { class: "actions" }, exporter("apkg", "Anki deck (.apkg)"), exporter("csv", "Spreadsheet (.csv)")),
    problems,
  );
}
