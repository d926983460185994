-- Module:Capacity Exchange: the list-reading part of {{Capacity Exchange profile}}.
--
-- The template shows a profile as a box; this module turns its list parameters into
-- lists, split exactly where the Capacity Exchange's own reader splits them
-- (exchange/src/parse.rs in https://capacity-exchange.toolforge.org's source:
-- ";", ",", line breaks, "*" bullets and their Arabic and CJK forms, but never
-- inside a link, a template or parentheses), and links each skill to a search of
-- the Capacity Exchange. Keep the two in step: a test in the tool's repository
-- compares the separators and keywords here with the Rust code.
--
-- The template calls it only when {{#invoke:Capacity Exchange|available}} answers
-- "available", so that on a wiki without Scribunto the box still shows the values
-- as written.

local p = {}

local TOOL = 'https://capacity-exchange.toolforge.org'
local I18N = 'Capacity Exchange profile/i18n'
local STYLES = 'Template:Capacity Exchange profile/styles.css'

-- Characters that end a list item (outside brackets and parentheses).
local SEPARATORS = {
	[';'] = true, [','] = true, ['\n'] = true, ['*'] = true,
	['،'] = true, ['؛'] = true, ['、'] = true, ['，'] = true, ['；'] = true, ['•'] = true,
}
local OPEN = { ['['] = true, ['{'] = true, ['('] = true }
local CLOSE = { [']'] = true, ['}'] = true, [')'] = true }

-- The keywords of "formats" and "contact" the template documents, and the other
-- spellings read as them.
local KEYWORDS = {
	format = {
		'mentoring', 'one-on-one', 'workshop', 'group', 'online', 'in-person',
		'office-hours', 'documentation', 'peer-review',
	},
	contact = {
		'talk', 'email', 'irc', 'matrix', 'telegram', 'signal', 'discord',
		'video-call', 'in-person', 'mailing-list',
	},
}
local ALIASES = {
	['one-to-one'] = 'one-on-one', ['1-on-1'] = 'one-on-one', ['1-1'] = 'one-on-one',
	['one-one'] = 'one-on-one', ['talk-page'] = 'talk', ['talkpage'] = 'talk',
	['e-mail'] = 'email', ['mail'] = 'email', ['inperson'] = 'in-person',
	['offline'] = 'in-person',
}

-- Whether `text` ends inside a character reference ("&amp", "&#91"): its ";" ends the
-- reference and does not separate items.
local function endsWithEntityName(text)
	local name = text:match('&([%w#]*)$')
	return name ~= nil and #name > 0 and #name <= 10
end

-- The items of a list value, trimmed, without empty ones.
function p.items(value)
	local out, current, depth = {}, {}, 0
	for c in mw.ustring.gmatch(value or '', '.') do
		if OPEN[c] then
			depth = depth + 1
			table.insert(current, c)
		elseif CLOSE[c] then
			depth = math.max(depth - 1, 0)
			table.insert(current, c)
		elseif c == ';' and depth == 0 and endsWithEntityName(table.concat(current)) then
			table.insert(current, c)
		elseif SEPARATORS[c] and depth == 0 then
			table.insert(out, table.concat(current))
			current = {}
		else
			table.insert(current, c)
		end
		if c == '\n' then
			-- A new line closes anything left open on the previous one.
			depth = 0
		end
	end
	table.insert(out, table.concat(current))
	local items = {}
	for _, item in ipairs(out) do
		item = mw.text.trim(item)
		if item ~= '' then
			table.insert(items, item)
		end
	end
	return items
end

-- Whether an item holds markup (a link, a template's output, a tag, a strip marker):
-- such an item is shown as written, never put inside a link.
local function hasMarkup(item)
	return item:find('[%[%]{}<>|\127]') ~= nil
end

local function htmlList(entries)
	if #entries == 0 then
		return ''
	end
	return '<ul class="capx-profile-items"><li>' .. table.concat(entries, '</li><li>') .. '</li></ul>'
end

-- A label from Template:Capacity Exchange profile/i18n in the reader's language.
local function label(frame, key, lang)
	return frame:expandTemplate{ title = I18N, args = { key, lang } }
end

-- The reader's language as a code MediaWiki knows, else the wiki's own language.
local function readerLanguage(lang)
	lang = mw.text.trim(lang or '')
	if lang ~= '' and mw.language.isKnownLanguageTag(lang) then
		return lang
	end
	return mw.language.getContentLanguage():getCode()
end

-- {{#invoke:Capacity Exchange|available}}: "available", the template's test that
-- Scribunto and this module work on the wiki.
function p.available()
	return 'available'
end

-- {{#invoke:Capacity Exchange|styles}}: the box's TemplateStyles where the wiki has
-- TemplateStyles, nothing elsewhere (an unknown tag would be shown as text).
function p.styles(frame)
	local ok, out = pcall(function()
		return frame:extensionTag('templatestyles', '', { src = STYLES })
	end)
	-- A known extension tag becomes a strip marker; an unknown one comes back as text.
	if ok and out:sub(1, 1) == '\127' then
		return out
	end
	return ''
end

-- {{#invoke:Capacity Exchange|skills|VALUE}}: each skill linked to a search for it.
function p.skills(frame)
	local entries = {}
	for _, item in ipairs(p.items(frame.args[1])) do
		if hasMarkup(item) then
			table.insert(entries, item)
		else
			local query = mw.uri.encode(mw.text.decode(item), 'QUERY')
			table.insert(entries, '[' .. TOOL .. '/search?q=' .. query .. ' ' .. item .. ']')
		end
	end
	return htmlList(entries)
end

-- {{#invoke:Capacity Exchange|list|VALUE|kind=format or contact|lang=CODE}}: the items
-- as a list; with a kind, the documented keywords in the reader's language.
function p.list(frame)
	local known = {}
	local kind = frame.args.kind
	for _, keyword in ipairs(KEYWORDS[kind] or {}) do
		known[keyword] = true
	end
	local entries = {}
	for _, item in ipairs(p.items(frame.args[1])) do
		local key = mw.ustring.lower(mw.text.decode(item)):gsub('%s+', '-')
		key = ALIASES[key] or key
		if known[key] and not hasMarkup(item) then
			table.insert(entries, label(frame, kind .. '-' .. key, frame.args.lang))
		else
			table.insert(entries, item)
		end
	end
	return htmlList(entries)
end

-- {{#invoke:Capacity Exchange|languages|VALUE|lang=CODE}}: Babel items ("pt-N", "en-3",
-- a bare code for native) as language names in the reader's language with the level.
function p.languages(frame)
	local inLanguage = readerLanguage(frame.args.lang)
	local entries = {}
	for _, item in ipairs(p.items(frame.args[1])) do
		for word in mw.text.gsplit(item, '%s+') do
			if word ~= '' then
				local lower = mw.ustring.lower(word)
				local code, level = lower:match('^(.-)%-([0-5n])$')
				if not code then
					code, level = lower, 'n'
				end
				local name = ''
				if not hasMarkup(word) and mw.language.isKnownLanguageTag(code) then
					name = mw.language.fetchLanguageName(code, inLanguage)
				end
				if name == '' then
					table.insert(entries, word)
				else
					table.insert(entries, name .. ' (' .. mw.ustring.upper(level) .. ')')
				end
			end
		end
	end
	return htmlList(entries)
end

-- {{#invoke:Capacity Exchange|profileUrl}}: the address of the page owner's profile on the
-- Capacity Exchange (the root of the user page's title is the user name).
function p.profileUrl(frame)
	local title = mw.title.getCurrentTitle()
	local url = TOOL .. '/profile/' .. mw.uri.encode(title.rootText, 'PATH')
	local lang = mw.text.trim(frame.args.lang or '')
	if lang ~= '' then
		url = url .. '?uselang=' .. mw.uri.encode(lang, 'QUERY')
	end
	return url
end

return p
