" iptplan rule files
autocmd BufNewFile,BufRead *.rules setfiletype iptplan
