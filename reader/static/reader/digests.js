// The daily news digests of the learner's language and level, read like a
// story's passage.

import { api } from "./api.js";
import { chooser, errorBox, h, languageName, main, prefs, show } from "./dom.js";
import { passage } from "./passage.js";

export async function digests() {
  const heading = show("News");
  const { language, level } = prefs;
  heading.after(
    await chooser({ level: true }),
    h("p", { class: "meta" }, `Daily readings of the news in ${languageName(language)} at ${level}.`),
  );
  let page;
  try {
    page = await api(`/api/digests?language=${encodeURIComponent(language)}&level=${encodeURIComponent(level)}`);
  } catch (error) {
    main().append(errorBox(error));
    return;
  }
  const list = h(
    "ul",
    { class: "stories", "aria-label": "Digests" },
    page.results.map((d) => h("li", {}, h("a", { href: `#/digest/${d.id}` }, d.title || d.date), h("span", { class: "meta" }, ` ${d.date}`))),
  );
  if (!page.results.length) list.append(h("li", {}, "No digest yet: one is written every night."));
  main().append(list);
}

export async function digest(id) {
  const heading = show("News");
  const path = `/api/digests/${encodeURIComponent(id)}`;
  let data;
  try {
    data = await api(path);
  } catch (error) {
    heading.after(errorBox(error));
    return;
  }
  heading.textContent = data.title || data.date;
  const reading = passage({ data, language: data.target_language, reload: () => api(path) });
  // A feed's link is someone else's text: only web addresses become links.
  const sources = (data.sources || []).map((s) =>
    h(
      "li",
      {},
      /^https?:\/\//i.test(s.link)
        ? h("a", { href: s.link, rel: "noopener noreferrer", target: "_blank" }, s.headline)
        : s.headline,
      ` — ${s.source_name}`,
    ),
  );
  heading.after(
    h("p", { class: "meta" }, `${data.date} · ${data.level}`),
    reading.element,
    sources.length ? h("section", { "aria-label": "Sources" }, h("h3", {}, "Sources"), h("ul", {}, sources)) : "",
  );
  return reading.stop;
}
