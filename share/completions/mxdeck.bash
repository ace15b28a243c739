# bash completion for mxdeck: commands, options, profiles (*.ini) and, after --host,
# the [host "NAME"] sections of the profile already on the command line.
_mxdeck_hosts()
{
	local w f=
	for w in "${COMP_WORDS[@]}"; do
		case $w in *.ini) [ -r "$w" ] && f=$w ;; esac
	done
	[ -n "$f" ] || return 0
	sed -n 's/^[[:space:]]*\[host[[:space:]]*"\([^"]*\)"[[:space:]]*\].*/\1/p' "$f" 2>/dev/null
}

_mxdeck()
{
	local cur prev cmds opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmds="render lint plan apply audit test doctor unlock init demo help"
	opts="--host --jobs --json --known-hosts --identity --accept-new-host-keys --force-tlsa --yes
	      --dry-run --audit --batch --no-color -v --version --help -F --format
	      --warn-exit -q"
	case $prev in
	--host)
		mapfile -t COMPREPLY < <(compgen -W "$(_mxdeck_hosts)" -- "$cur")
		return ;;
	--jobs)
		return ;;
	--known-hosts | --identity | -F)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	--format)
		mapfile -t COMPREPLY < <(compgen -W "text json nagios prometheus" -- "$cur")
		return ;;
	render)
		mapfile -t COMPREPLY < <(compgen -f -X '!*.ini' -- "$cur"; compgen -d -- "$cur")
		return ;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
	elif [ "$COMP_CWORD" -eq 1 ]; then
		mapfile -t COMPREPLY < <(compgen -W "$cmds" -- "$cur"; compgen -f -X '!*.ini' -- "$cur"; compgen -d -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -X '!*.ini' -- "$cur"; compgen -d -- "$cur")
	fi
}
complete -o filenames -F _mxdeck mxdeck
