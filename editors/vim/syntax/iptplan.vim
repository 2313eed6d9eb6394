" Vim syntax for iptplan rule files (*.rules).
" Install: copy editors/vim/ into ~/.vim (or a package directory).
if exists("b:current_syntax")
  finish
endif

syn keyword iptplanRule rule nextgroup=iptplanRuleName skipwhite
syn match iptplanRuleName "[A-Za-z_][A-Za-z0-9_]*" contained
syn keyword iptplanKeyword when then because end provisional for each in priority tags source by session
syn keyword iptplanAction challenge solution goal flag conclude exclude
syn keyword iptplanSeverity info warning critical
syn keyword iptplanBoolean true false
syn keyword iptplanOperator and or not is known missing contains any all count
syn match iptplanOperator "==\|!=\|<=\|>=\|[<>+*/=-]"
syn match iptplanNumber "\<\d\+\(\.\d\+\)\=\>"
syn match iptplanParam "\<param\.[A-Za-z_][A-Za-z0-9_]*"
syn match iptplanComment "#.*$" contains=@Spell
syn region iptplanString start=+"+ skip=+\\"+ end=+"\|$+ contains=iptplanEscape,iptplanInterpolation,@Spell
syn match iptplanEscape "\\[\"\\n]" contained
syn region iptplanInterpolation start="{" end="}" contained contains=iptplanParam

hi def link iptplanRule Keyword
hi def link iptplanRuleName Function
hi def link iptplanKeyword Keyword
hi def link iptplanAction Type
hi def link iptplanSeverity Constant
hi def link iptplanBoolean Boolean
hi def link iptplanOperator Operator
hi def link iptplanNumber Number
hi def link iptplanParam Identifier
hi def link iptplanComment Comment
hi def link iptplanString String
hi def link iptplanEscape SpecialChar
hi def link iptplanInterpolation Special

let b:current_syntax = "iptplan"
