//! Rosters as their publishers lay them out: the exact headers, quoting,
//! line ends and placeholders of the UK Parliament's MP lookup, the
//! unitedstates/congress-legislators CSV (forms only), and others. The rows
//! are made up; every address is on a reserved domain.

use crate::fixture;

use fixture::{stderr, stdout, Campaign, CampaignFile, TEXT};

/// The UK MP lookup (dfe-analytical-services/mp-lookup, from the UK
/// Parliament Members API): R's `write.csv` style, every field quoted,
/// CRLF, and `No email found` where an MP has no address.
const UK_HEADER: &str = "\"pcon_name\",\"pcon_code\",\"member_id\",\"full_title\",\"display_as\",\"party_text\",\"member_email\",\"election_result_summary_2024\",\"lad_names\",\"lad_codes\",\"lad_codes_2024\",\"la_names\",\"new_la_codes\",\"new_la_codes_2024\",\"old_la_codes_2024\",\"mayoral_auth_names\",\"mayoral_auth_codes\",\"region_name\",\"region_code\",\"country_name\",\"country_code\"";

fn uk_row(seat: &str, title: &str, name: &str, email: &str) -> String {
    format!("\"{seat}\",\"E14000001\",\"9001\",\"{title}\",\"{name}\",\"Labour\",\"{email}\",\"Lab hold\",\"Hart / Rushmoor\",\"E07000089 / E07000092\",\"E07000089 / E07000092\",\"Hampshire\",\"E10000014\",\"E10000014\",\"850\",\"Not applicable\",\"z\",\"South East\",\"E12000008\",\"England\",\"E92000001\"")
}

fn uk_file() -> String {
    [
        UK_HEADER.to_string(),
        uk_row(
            "Aldwick",
            "Ann Smith MP",
            "Ann Smith",
            "ann.smith.mp@parliament.example",
        ),
        uk_row(
            "Montgomeryshire and Glyndŵr",
            "Rt Hon Siân Jones MP",
            "Siân Jones",
            "No email found",
        ),
        uk_row(
            "Ynys Môn",
            "Órla Begley MP",
            "Órla Begley",
            "orla.begley.mp@parliament.example",
        ),
    ]
    .join("\r\n")
        + "\r\n"
}

fn uk_config() -> String {
    CampaignFile::new("uk")
        .subject("A letter to {{ display_as }}")
        .contacts(
            "path = \"contacts.csv\"\nemail_column = \"member_email\"\nname = \"{{ display_as }}\"",
        )
        .vars("")
        .build()
}

const UK_TEXT: &str = "Dear {{ full_title }},\n\nWrite to you about {{ pcon_name }}.\n";

#[test]
fn uk_no_email_found_is_an_office_without_address_not_an_error() {
    let c = Campaign::with(&uk_config(), UK_TEXT, uk_file().as_bytes());
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("contacts.csv:3: `No email found` in column `member_email` is not an address"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("2 letters ready, 1 office unreachable"),
        "{}",
        stdout(&out)
    );
    // --strict still refuses a file with such a row.
    let out = c.cmd(&["check", "--strict"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));

    let out = c.cmd(&["preview"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Dear Ann Smith MP,"), "{text}");
    assert!(
        text.contains("Órla Begley <orla.begley.mp@parliament.example>"),
        "{text}"
    );
}

#[test]
fn an_address_with_an_at_sign_that_does_not_parse_stays_an_error() {
    let file = uk_file().replace(
        "orla.begley.mp@parliament.example",
        "orla.begley.mp@@parliament.example",
    );
    let c = Campaign::with(&uk_config(), UK_TEXT, file.as_bytes());
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: ") && err.contains("contacts.csv:4:"),
        "{err}"
    );
    assert!(err.contains("not a valid email address"), "{err}");
}

/// unitedstates/congress-legislators `legislators-current.csv`: no email
/// column at all, `contact_form` URLs for senators and nothing for
/// representatives, quoted names with commas and doubled quotes, CRLF.
pub const CONGRESS_HEADER: &str = "last_name,first_name,middle_name,suffix,nickname,full_name,birthday,gender,type,state,district,senate_class,party,url,address,phone,contact_form,rss_url,twitter,twitter_id,facebook,youtube,youtube_id,mastodon,bioguide_id,thomas_id,opensecrets_id,lis_id,fec_ids,cspan_id,govtrack_id,votesmart_id,ballotpedia_id,washington_post_id,icpsr_id,wikipedia_id";

pub fn congress_file() -> String {
    [
        CONGRESS_HEADER,
        "Whitcombe,Eleanor,,,,Eleanor Whitcombe,1958-10-13,F,sen,VT,,1,Democrat,https://whitcombe.senate.example,511 Hart Senate Office Building Washington DC 20510,202-224-3441,https://whitcombe.senate.example/contact?topic=a&b=<c>,,SenWhitcombe,117501995,,,,,C000127,00172,N00007836,S275,\"S8WA00194,H2WA01054\",26137,300018,27122,,,,Eleanor Whitcombe",
        "Crawford,Eric,A.,,Rick,\"Eric A. \"\"Rick\"\" Crawford\",1966-01-22,M,rep,AR,1,,Republican,https://crawford.house.example,2422 Rayburn House Office Building Washington DC 20515-0401,202-225-4076,,,,,,,,,C001087,02066,N00030770,,H0AR01083,623223,412445,119208,,,,Rick Crawford",
        "Bishop,Sanford,D.,Jr.,,\"Sanford D. Bishop, Jr.\",1947-02-04,M,rep,GA,2,,Democrat,https://bishop.house.example,2407 Rayburn House Office Building Washington DC 20515-1002,202-225-3631,,,,,,,,,B000490,00091,N00002674,,H2GA02031,26066,400030,27500,,,,Sanford Bishop",
    ]
    .join("\r\n")
        + "\r\n"
}

fn congress_config() -> String {
    CampaignFile::new("congress")
        .subject("A letter to {{ full_name }}")
        .contacts("path = \"contacts.csv\"\nname = \"{{ full_name }}\"")
        .vars("")
        .build()
}

pub const CONGRESS_TEXT: &str = "Dear {{ full_name }} ({{ state }}),\n\nHuman rights first.\n";

#[test]
fn congress_without_an_email_column_is_a_campaign_of_form_only_offices() {
    let c = Campaign::with(
        &congress_config(),
        CONGRESS_TEXT,
        congress_file().as_bytes(),
    );
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        stdout(&out)
            .contains("0 letters ready, 1 office to reach by contact form, 2 offices unreachable"),
        "{}",
        stdout(&out)
    );
    assert!(
        err.contains("has no `email` column, only contact forms"),
        "{err}"
    );
    // The two representatives without a form are named by their lines.
    assert!(
        err.contains("contacts.csv:3: no contact form in column `contact_form`"),
        "{err}"
    );
    assert!(err.contains("contacts.csv:4"), "{err}");

    let out = c.cmd(&["preview"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 office takes only a contact form"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn without_an_address_column_or_a_form_column_the_file_is_refused() {
    let file = congress_file()
        .replace("contact_form", "contact_page")
        .replace(",url,", ",homepage,");
    let c = Campaign::with(&congress_config(), CONGRESS_TEXT, file.as_bytes());
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("contacts.csv:1: no `email` column"), "{err}");
    assert!(err.contains("`contact_form` column"), "{err}");
}

#[test]
fn utf8_read_as_windows_1252_is_warned_with_its_line_and_the_fix() {
    let config = uk_config().replace("[contacts]\n", "[contacts]\nencoding = \"windows-1252\"\n");
    let c = Campaign::with(&config, UK_TEXT, uk_file().as_bytes());
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("warning: "), "{err}");
    assert!(
        err.contains("contacts.csv:3: `Montgomeryshire and GlyndÅµr`"),
        "{err}"
    );
    assert!(
        err.contains("remove `encoding = \"windows-1252\"`"),
        "{err}"
    );
    assert!(!c
        .cmd(&["check", "--strict"])
        .output()
        .unwrap()
        .status
        .success());
}

#[test]
fn too_few_fields_are_explained_as_a_missing_value_or_a_line_break() {
    let data = "title,first_name,last_name,state,email\n\
        Senator,Ann,Smith,Vermont,ann.smith@example.org\n\
        Senator,Bob,\"Jones\n\",Ohio,bob@example.org\n\
        Senator,Cy,Ohio\n\
        Kent,cy@example.org\n";
    let c = Campaign::with(&fixture::config(), TEXT, data.as_bytes());
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "contacts.csv:5: this row has 3 fields but the header has 5: a value is missing"
        ),
        "{err}"
    );
    assert!(err.contains("line break inside an unquoted value"), "{err}");
    assert!(!err.contains("contains the delimiter"), "{err}");
}

// ---------------------------------------------------------------------------
// docs/representatives.md: each publisher's `[contacts]` section, read from
// the page itself, against a file with that publisher's header and quirks.

/// The `[contacts]` snippet under `<!-- fixture: NAME -->` in the page.
fn snippet(name: &str) -> String {
    let page = include_str!("../../docs/representatives.md");
    let marker = format!("<!-- fixture: {name} -->\n```toml\n");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker:?} in the page"))
        + marker.len();
    let len = page[start..].find("```").expect("the block ends");
    page[start..start + len].to_string()
}

/// A campaign over `file` written where the snippet's `path` says.
fn publisher_campaign(name: &str, file: &[u8]) -> Campaign {
    let contacts = snippet(name);
    let path = contacts
        .lines()
        .find_map(|l| l.strip_prefix("path = "))
        .expect("a path")
        .trim_matches('"')
        .to_string();
    let body = contacts
        .strip_prefix("[contacts]\n")
        .expect("the snippet is a [contacts] section");
    let c = CampaignFile::new(name)
        .subject("A letter to {{ to_name }}")
        .contacts(body)
        .vars("to_name = \"you\"")
        .write("Dear representative,\n\nHuman rights first.\n", b"");
    c.write(&path, file);
    c
}

/// `check`'s summary line and the To lines `preview` shows.
fn check_and_preview(c: &Campaign) -> (String, String) {
    let out = c.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = stdout(&out);
    let out = c.cmd(&["preview"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (summary, stdout(&out))
}

const OPENSTATES_HEADER: &str = "id,name,current_party,current_district,current_chamber,given_name,family_name,gender,email,biography,birth_date,death_date,image,links,sources,capitol_address,capitol_voice,capitol_fax,district_address,district_voice,district_fax,twitter,youtube,instagram,facebook,wikidata";

#[test]
fn openstates_snippet_reads_the_published_file() {
    let file = [
        OPENSTATES_HEADER,
        "ocd-person/a76e0c0e-81d3-4f3b-8cc8-b8360d3cecb4,Aarón Ortega,Democratic,1,lower,Aarón,Ortega,Male,district@rep-ortega.example.com,,1991-06-18,,https://cdn.example.org/members/{D96B0DF9-0E06}.jpg,https://ilga.example.gov/a;https://x.example.org/%C3%81,https://ilga.example.gov/src,,,,\"2500 S. Main St., Suite 1, Chicago, IL 60608\",773-555-0100,,,,,,Q1",
        "ocd-person/0b2e1f4a-0000-4000-8000-000000000001,Darla Hill,Republican,At-Large,upper,Darla,Hill,Female,,,,,,,,,,,,,,,,,,",
        "ocd-person/0b2e1f4a-0000-4000-8000-000000000002,María de Lourdes Santos Negrón,Partido Independentista Puertorriqueño,At-Large,upper,María de Lourdes,Santos Negrón,Female,msantos@senado.example.org,,,,,,,,,,,,,,,,,",
    ]
    .join("\r\n")
        + "\r\n";
    let c = publisher_campaign("openstates", file.as_bytes());
    let (summary, preview) = check_and_preview(&c);
    assert!(
        summary.contains("2 letters ready, 1 office unreachable"),
        "{summary}"
    );
    assert!(
        preview.contains("Aarón Ortega <district@rep-ortega.example.com>"),
        "{preview}"
    );
    assert!(
        preview.contains("María de Lourdes Santos Negrón <msantos@senado.example.org>"),
        "{preview}"
    );
}

#[test]
fn uk_snippet_reads_the_published_file() {
    let c = publisher_campaign("uk", uk_file().as_bytes());
    let (summary, preview) = check_and_preview(&c);
    assert!(
        summary.contains("2 letters ready, 1 office unreachable"),
        "{summary}"
    );
    assert!(
        preview.contains("Ann Smith <ann.smith.mp@parliament.example>"),
        "{preview}"
    );
}

const EU_HEADER: &str = "dxid,country,first_name,last_name,email,birthdate,gender,eugroup,party,phone,office,committee,substitute,delegation,twitter,epid,since,AFCO,AFET,AGRI,AIDA,ANIT,BECA,BUDG,CONT,COVI,CULT,DEVE,DROI,ECON,EMPL,ENVI,FEMM,FISC,IMCO,ING2,INGE,INTA,ITRE,JURI,LIBE,PECH,PEGA,PETI,REGI,SANT,SEDE,TRAN";

#[test]
fn eu_snippet_reads_the_published_file() {
    let committees = |v: &str| vec![v; 31].join(",");
    // LF line ends and no line break after the last row.
    let file = [
        EU_HEADER.to_string(),
        format!("5k9_h,fr,Christelle,BAYARD,christelle.bayard@europarl.example,1962-09-06,,Patriots,Rassemblement national,003222845022,,\"AGRI|FISC\",,,x.com/cbayard,197000,2024-07-16,{}", committees("")),
        format!("7q2_p,pl,Łucja,MARCZUŁAJTIS-WALCZAK,lucja.mw@europarl.example,,F,EPP,Platforma,,,,,,lucjamw,197001,2024-07-16,{}", committees("M")),
        format!("9z1_e,el,Νίκος,ΠΑΠΑΔΟΠΟΥΛΟΣ,nikos.p@europarl.example,,M,NI,Εθνικό Λαϊκό Μέτωπο,,,,,,,197002,2024-07-16,{}", committees("S")),
    ]
    .join("\n");
    let c = publisher_campaign("eu", file.as_bytes());
    let (summary, preview) = check_and_preview(&c);
    assert!(
        summary.contains("3 letters ready, 0 errors, 0 warnings"),
        "{summary}"
    );
    assert!(
        preview.contains("MARCZUŁAJTIS-WALCZAK <lucja.mw@europarl.example>"),
        "{preview}"
    );
    assert!(preview.contains("Νίκος ΠΑΠΑΔΟΠΟΥΛΟΣ"), "{preview}");
}

const REPRESENT_HEADER: &str = "District name,Primary role,Name,First name,Last name,Gender,Party name,Email,Photo URL,Source URL,Website,Facebook,Instagram,Twitter,LinkedIn,YouTube,Office type,Address,Phone,Fax,Office type,Address,Phone,Fax";

fn represent_file() -> String {
    [
        REPRESENT_HEADER,
        "Laurier—Sainte-Marie,MP,Hélène Côté,Hélène,Côté,F,Liberal,helene.cote@parl.example,,https://www.ourcommons.example/members,,,,,,,legislature,\"House of Commons\r\nOttawa ON  K1A 0A6\",1 613-555-0101,1 613-555-0102,constituency,\"1 Rue Exemple\r\nMontréal QC  H2X 1X1\",1 514-555-0103,",
        "Nunavut,MP,Lori Idlout,Lori,Idlout,F,NDP,lori.idlout@parl.example,,,,,,,,,legislature,\"House of Commons\r\nOttawa ON  K1A 0A6\",1 613-555-0104,,,,,",
    ]
    .join("\r\n")
        + "\r\n"
}

#[test]
fn represent_snippet_reads_the_published_windows_1252_file() {
    // Windows-1252, as Represent writes it when every name fits.
    let text = represent_file().replace('—', "-");
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    let c = publisher_campaign("represent", &bytes);
    let (summary, preview) = check_and_preview(&c);
    assert!(
        summary.contains("2 letters ready, 0 errors, 0 warnings"),
        "{summary}"
    );
    assert!(
        preview.contains("Hélène Côté <helene.cote@parl.example>"),
        "{preview}"
    );

    // The repeated office columns are numbered variables.
    c.write(
        "letter.txt.tera",
        "{{ address }}\n--\n{{ address_2 }}\n".as_bytes(),
    );
    let out = c.cmd(&["preview", "--limit", "1"]).output().unwrap();
    let text = stdout(&out);
    assert!(
        text.contains(
            "House of Commons\nOttawa ON  K1A 0A6\n--\n1 Rue Exemple\nMontréal QC  H2X 1X1"
        ),
        "{text}"
    );

    // A UTF-8 file (a name did not fit Windows-1252) under the same
    // snippet: the warning says to remove `encoding`.
    c.write("contacts/house-of-commons.csv", represent_file().as_bytes());
    let out = c.cmd(&["check"]).output().unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("contacts/house-of-commons.csv:2:")
            && err.contains("remove `encoding = \"windows-1252\"`"),
        "{err}"
    );
}

#[test]
fn congress_snippet_reads_the_published_file_as_forms_only() {
    let c = publisher_campaign("congress", congress_file().as_bytes());
    let (summary, preview) = check_and_preview(&c);
    assert!(
        summary
            .contains("0 letters ready, 1 office to reach by contact form, 2 offices unreachable"),
        "{summary}"
    );
    assert!(
        preview.contains("1 office takes only a contact form"),
        "{preview}"
    );
}

// ---------------------------------------------------------------------------
// `repmail forms --html`: the volunteers' kit.

/// The page's text between `from` and the next `to`.
fn between<'a>(page: &'a str, from: &str, to: &str) -> &'a str {
    let start = page.find(from).unwrap_or_else(|| panic!("no {from:?}")) + from.len();
    let len = page[start..].find(to).expect("the end");
    &page[start..start + len]
}

#[test]
fn forms_kit_for_congress_links_each_form_with_its_letter() {
    let c = Campaign::with(
        &congress_config(),
        CONGRESS_TEXT,
        congress_file().as_bytes(),
    );
    let target = c.path("kit.html");
    let out = c
        .cmd(&["forms", "--html", target.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 office to reach by contact form, 2 unreachable"),
        "{}",
        stdout(&out)
    );
    let page = std::fs::read_to_string(&target).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    // The form as a link, its `&` and `<` escaped in the attribute.
    let href = between(&page, "<a href=\"", "\"");
    assert!(
        href.starts_with("https:") && href.contains("topic=a&amp;b=&lt;c&gt;"),
        "{href}"
    );
    // The personalised subject and letter, ready to copy.
    assert!(
        page.contains("value=\"A letter to Eleanor Whitcombe\""),
        "{page}"
    );
    assert_eq!(
        between(&page, "<textarea id=\"letter-1\" readonly>", "</textarea>"),
        "Dear Eleanor Whitcombe (VT),\n\nHuman rights first.\n"
    );
    assert!(page.contains("data-copy=\"letter-1\""));
    // The done tick is kept in the page, keyed by the office's form
    // (issue 24, item 7).
    assert!(
        page.contains(
            "data-done=\"https://whitcombe.senate.example/contact?topic=a&amp;b=&lt;c&gt;\""
        ) && page.contains("localStorage"),
        "{page}"
    );
    // Then the unreachable offices, by name, escaped.
    let unreachable = between(&page, "<h2>Unreachable</h2>", "</ul>");
    assert!(
        unreachable.contains("Eric A. &quot;Rick&quot; Crawford"),
        "{unreachable}"
    );
    assert!(
        unreachable.contains("Sanford D. Bishop, Jr."),
        "{unreachable}"
    );
    // Offline: nothing loaded from anywhere.
    for external in ["src=", "<link", "@import", "url(", "<iframe", "<img"] {
        assert!(!page.contains(external), "{external}");
    }
    assert!(page.contains("default-src 'none'"));

    // Without --html: the list on the terminal.
    let out = c.cmd(&["forms"]).output().unwrap();
    assert!(
        stdout(&out)
            .contains("line     2  Eleanor Whitcombe  https://whitcombe.senate.example/contact"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn forms_kit_keeps_hostile_names_and_forms_inert() {
    let file = "name,email,contact_form\n\
        \"<script>alert(1)</script>\",,https://a.example.org/form\n\
        \"</textarea><img src=x onerror=alert(1)>\",,javascript:alert(document.domain)\n\
        \"x\"\" onmouseover=\"\"alert(1)\",,https://c.example.org/?q=\"><b>\n\
        Mailed,mailed@example.org,\n";
    let c = CampaignFile::new("hostile")
        .subject("For {{ name }}")
        .contacts("path = \"contacts.csv\"\nname = \"{{ name }}\"")
        .vars("")
        .write("Dear {{ name }},\n", file.as_bytes());
    let target = c.path("kit.html");
    let out = c
        .cmd(&["forms", "--html", target.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(&target).unwrap();
    let body = between(&page, "<body>", "<script>");
    for live in [
        "<script>alert",
        "<img",
        "</textarea><",
        "onmouseover=\"",
        "<b>",
        "href=\"javascript",
    ] {
        assert!(!body.contains(live), "{live} is live in:\n{body}");
    }
    assert!(body.contains("&lt;script&gt;alert(1)&lt;"), "{body}");
    // The `javascript:` form is shown as text, never as a link.
    assert_eq!(body.matches("<a href=").count(), 2, "{body}");
    assert!(body.contains("not a web address: check line 3"), "{body}");
    // The addressed row gets the email, not the kit.
    assert!(!body.contains("Mailed"), "{body}");
}

#[test]
fn forms_refuses_an_incomplete_kit_and_never_overwrites_the_contacts() {
    // A letter that cannot render is an error naming its place: a variable
    // no column fills is found before any row (issue 24, item 4), at its
    // template line.
    let c = Campaign::with(
        &congress_config(),
        "Dear {{ full_name }} of {{ county }},\n",
        congress_file().as_bytes(),
    );
    let target = c.path("kit.html");
    let out = c
        .cmd(&["forms", "--html", target.to_str().unwrap()])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("letter.txt.tera:1") && err.contains("county"),
        "{err}"
    );
    assert!(!target.exists(), "nothing half-written");

    let c = Campaign::with(
        &congress_config(),
        CONGRESS_TEXT,
        congress_file().as_bytes(),
    );
    let before = std::fs::read(c.path("contacts.csv")).unwrap();
    let out = c
        .cmd(&["forms", "--html", c.path("contacts.csv").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("choose another file name"));
    assert_eq!(std::fs::read(c.path("contacts.csv")).unwrap(), before);
}

/// Offices reached by their forms, beside one with an address and one
/// with neither (issue 24, item 7: `forms --done`).
const DONE_FILE: &str = "name,email,contact_form\n\
    Ann Office,,https://ann.senate.example/contact\n\
    Bob Office,,https://bob.senate.example/form\n\
    Mailed Person,mailed@example.org,https://mailed.example.org/form\n\
    Nobody,,\n";

const DONE_CONFIG: &str = r#"
[campaign]
name = "forms"
subject = "For {{ name }}"
text = "letter.txt.tera"

[sender]
from = "Test Group <letters@example.org>"

[contacts]
path = "contacts.csv"
name = "{{ name }}"
"#;

fn form_sent_rows(c: &Campaign) -> Vec<String> {
    std::fs::read_to_string(c.path("logs/forms.csv"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(",form_sent,"))
        .map(str::to_string)
        .collect()
}

#[test]
fn forms_done_records_an_office_once_and_log_report_and_kit_count_it() {
    let c = Campaign::with(DONE_CONFIG, "Dear {{ name }},\n", DONE_FILE.as_bytes());
    let out = c.cmd(&["forms", "--done", "2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("recorded line 2  Ann Office  https://ann.senate.example/contact"),
        "{}",
        stdout(&out)
    );
    let rows = form_sent_rows(&c);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains(",forms,https://ann.senate.example/contact,form_sent,0,,,"),
        "{rows:?}"
    );

    // Twice, by its form this time (a trailing `/` and case ignored): a
    // no-op that says so.
    let out = c
        .cmd(&["forms", "--done", "HTTPS://ann.senate.example/contact/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("already recorded line 2  Ann Office"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("0 offices recorded"),
        "{}",
        stdout(&out)
    );
    assert_eq!(form_sent_rows(&c).len(), 1);

    // `log` counts it as reached, and `--status form_sent` selects it.
    let out = c.cmd(&["log"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    let count = |label: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().last())
            .map(str::to_string)
    };
    assert_eq!(
        count("reached by contact form").as_deref(),
        Some("1"),
        "{table}"
    );
    assert_eq!(count("contact form only").as_deref(), Some("1"), "{table}");
    let out = c
        .cmd(&["log", "--status", "form_sent", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{json}");
    assert_eq!(rows[0]["status"], "form_sent");
    assert_eq!(rows[0]["name"], "Ann Office");
    assert_eq!(rows[0]["form"], "https://ann.senate.example/contact");
    assert_eq!(json["summary"]["form_sent"], 1, "{json}");
    // Offices reached are no one's follow-up: the export leaves them out.
    let export = c.path("again.csv");
    let out = c
        .cmd(&["log", "--export", export.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let again = std::fs::read_to_string(&export).unwrap();
    assert!(!again.contains("Ann Office"), "{again}");
    assert!(again.contains("Bob Office"), "{again}");
    // The log alone (no contacts) still shows the form reached.
    let out = fixture::repmail()
        .args(["log", "--log", c.path("logs/forms.csv").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("form_sent") && stdout(&out).contains("ann.senate.example"),
        "{}",
        stdout(&out)
    );

    // The HTML report, held rather than walked, says the same.
    let report = c.path("report.html");
    let out = c
        .cmd(&["log", "--html", report.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(
        page.contains("<b>1</b><span>reached by contact form</span>"),
        "{page}"
    );
    assert!(page.contains("class=\"badge s-form_sent\""), "{page}");

    // The kit marks it done from the log, for every browser; the other
    // office keeps its tick and the command that records it.
    let kit = c.path("kit.html");
    let out = c
        .cmd(&["forms", "--html", kit.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(&kit).unwrap();
    let ann = between(&page, "Ann Office", "</section>");
    assert!(
        ann.contains("checked disabled") && ann.contains("in the delivery log since"),
        "{ann}"
    );
    let bob = between(&page, "Bob Office", "</section>");
    assert!(
        bob.contains("data-done=\"https://bob.senate.example/form\"")
            && bob.contains("repmail forms --done 3")
            && !bob.contains("checked"),
        "{bob}"
    );
    assert!(page.contains("records 1 of them as reached"), "{page}");
    let out = c.cmd(&["forms"]).output().unwrap();
    assert!(
        stdout(&out).contains("(done: recorded ") && stdout(&out).contains("1 recorded as reached"),
        "{}",
        stdout(&out)
    );

    // The emailed recipient is still planned; nobody is planned twice.
    let out = c.cmd(&["send", "--dry-run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("mailed@example.org"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("ann.senate"), "{}", stdout(&out));

    // A form is the office's, not a person's: another row with an address
    // and the same form (a shared, generic form) still gets its letter,
    // and so does the office itself once it gains an address (the review
    // reached showed it "never attempted" while `send` skipped it).
    let file = DONE_FILE
        .replace("Ann Office,,", "Ann Office,ann@senate.example,")
        .replace(
            "Nobody,,",
            "Shared Form,shared@senate.example,https://ann.senate.example/contact",
        );
    c.write("contacts.csv", file.as_bytes());
    let out = c.cmd(&["send", "--dry-run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = stdout(&out);
    assert!(plan.contains("would send  line     2"), "{plan}");
    assert!(plan.contains("shared@senate.example"), "{plan}");
    assert!(!plan.contains(": already sent"), "{plan}");
}

#[test]
fn forms_done_refuses_keys_that_name_no_office_to_reach_and_writes_nothing() {
    let c = Campaign::with(DONE_CONFIG, "Dear {{ name }},\n", DONE_FILE.as_bytes());
    // One good KEY among bad ones: every bad one named, nothing written.
    let out = c
        .cmd(&[
            "forms",
            "--done",
            "3",
            "4",
            "5",
            "99",
            "https://mailed.example.org/form",
            "https://nowhere.example/form",
        ])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for expected in [
        "contacts.csv:4 (Mailed Person) has the address mailed@example.org: it gets the letter by email",
        "contacts.csv:5 (Nobody) has no contact form",
        "contacts.csv:99 is not a contact",
        "contacts.csv has the contact form `https://nowhere.example/form` (2 offices have one)",
        "`repmail forms` lists each office",
        "nothing recorded: 5 KEYs name no office",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
    assert!(form_sent_rows(&c).is_empty(), "nothing written");
    assert!(!c.path("logs/forms.csv").exists(), "no log made");

    // Usage: no KEY, or --done with --html, exit 2.
    let out = c.cmd(&["forms", "--done"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = c
        .cmd(&["forms", "--done", "2", "--html", "kit.html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
